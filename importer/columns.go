package importer

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
	"google.golang.org/protobuf/proto"

	"github.com/milvault/milvault/columnar"
)

// plan maps the columns of a file onto the fields an insert carries.
type plan struct {
	insert *schemapb.CollectionSchema // the target schema without a skipped auto-id key
	arrow  *arrow.Schema              // columnar.ArrowSchema(insert)
	from   []int                      // per insert column: the file's column, or -1 to fill
	fill   []string                   // per insert column: "null" or "{}" when from is -1
	// skippedKey is set when the file holds keys for an auto_id key field,
	// which the server assigns instead.
	skippedKey bool
}

// newPlan matches the columns of a file (got) with the stored fields of
// target. Problems are returned all at once, each naming the column.
func newPlan(target *schemapb.CollectionSchema, got *arrow.Schema) (*plan, []string) {
	p := &plan{insert: proto.Clone(target).(*schemapb.CollectionSchema)}
	p.insert.Fields = nil
	var problems []string
	used := map[string]bool{}
	for _, f := range columnar.StoredFields(target) {
		idx := got.FieldIndices(f.GetName())
		if f.GetIsPrimaryKey() && f.GetAutoID() {
			p.skippedKey = len(idx) > 0
			used[f.GetName()] = true
			continue
		}
		if !f.GetIsDynamic() || containsField(target, f.GetName()) {
			p.insert.Fields = append(p.insert.Fields, f)
		}
		used[f.GetName()] = true
		switch {
		case len(idx) > 0:
			p.from, p.fill = append(p.from, idx[0]), append(p.fill, "")
		case f.GetIsDynamic():
			p.from, p.fill = append(p.from, -1), append(p.fill, "{}")
		case f.GetNullable():
			p.from, p.fill = append(p.from, -1), append(p.fill, "null")
		default:
			p.from, p.fill = append(p.from, -1), append(p.fill, "missing")
			problems = append(problems, fmt.Sprintf("no column for field %q (%s)", f.GetName(), f.GetDataType()))
		}
	}
	for _, gf := range got.Fields() {
		if !used[gf.Name] {
			problems = append(problems, fmt.Sprintf("column %q is not a field of the collection", gf.Name))
		}
	}
	var err error
	if p.arrow, err = columnar.ArrowSchema(p.insert); err != nil {
		return nil, append(problems, err.Error())
	}
	for i, idx := range p.from {
		want := p.arrow.Field(i)
		if idx >= 0 && !sameType(want.Type, got.Field(idx).Type) {
			problems = append(problems, fmt.Sprintf("column %q is %s, the field needs %s", want.Name, got.Field(idx).Type, want.Type))
		}
	}
	return p, problems
}

func containsField(s *schemapb.CollectionSchema, name string) bool {
	for _, f := range s.GetFields() {
		if f.GetName() == name {
			return true
		}
	}
	return false
}

// sameType compares column types, ignoring the names and nullability of
// list elements (pyarrow names them "element", milvault "item").
func sameType(want, got arrow.DataType) bool {
	wl, wok := want.(*arrow.ListType)
	gl, gok := got.(*arrow.ListType)
	if wok || gok {
		return wok && gok && sameType(wl.Elem(), gl.Elem())
	}
	return arrow.TypeEqual(want, got)
}

// record builds the insert record of one batch of the file.
func (p *plan) record(rec arrow.RecordBatch) arrow.RecordBatch {
	n := int(rec.NumRows())
	cols := make([]arrow.Array, len(p.from))
	for i, idx := range p.from {
		switch {
		case idx >= 0:
			cols[i] = rec.Column(idx)
			cols[i].Retain()
		case p.fill[i] == "{}":
			b := array.NewStringBuilder(memory.DefaultAllocator)
			for range n {
				b.Append("{}")
			}
			cols[i] = b.NewArray()
			b.Release()
		default:
			cols[i] = array.MakeArrayOfNull(memory.DefaultAllocator, p.arrow.Field(i).Type, n)
		}
	}
	// The file's own column types (list elements may be named "element").
	fields := make([]arrow.Field, len(cols))
	for i, c := range cols {
		fields[i] = arrow.Field{Name: p.arrow.Field(i).Name, Type: c.DataType(), Nullable: true}
	}
	out := array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, int64(n))
	for _, c := range cols {
		c.Release()
	}
	return out
}
