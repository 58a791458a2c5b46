package columnar

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
)

// Builder accumulates query results of one collection into Arrow records in
// the layout of ArrowSchema. Vectors and scalars are copied from the wire
// buffers in bulk, without allocations per row. A Builder is not safe for
// concurrent use.
type Builder struct {
	rb      *array.RecordBuilder
	cols    []column
	rows    int
	scratch []byte // text of one sparse row
}

// NewBuilder returns an empty Builder for coll that allocates from mem.
func NewBuilder(mem memory.Allocator, coll *schemapb.CollectionSchema) (*Builder, error) {
	sch, err := ArrowSchema(coll)
	if err != nil {
		return nil, err
	}
	stored := StoredFields(coll)
	cols := make([]column, len(stored))
	for i, f := range stored {
		cols[i] = column{field: f}
		if isDenseVector(f.GetDataType()) {
			if cols[i].width, err = vectorRowWidth(f); err != nil {
				return nil, err
			}
		}
	}
	rb := array.NewRecordBuilder(mem, sch)
	for i := range cols {
		cols[i].b = rb.Field(i)
	}
	return &Builder{rb: rb, cols: cols}, nil
}

// isDenseVector reports whether dt is a vector type with a fixed dim.
func isDenseVector(dt schemapb.DataType) bool {
	switch dt {
	case schemapb.DataType_FloatVector, schemapb.DataType_BinaryVector,
		schemapb.DataType_Float16Vector, schemapb.DataType_BFloat16Vector,
		schemapb.DataType_Int8Vector:
		return true
	}
	return false
}

// Append adds the numRows rows of one query response. Columns are matched
// to stored fields by name (the dynamic field also by its IsDynamic flag);
// columns of fields that are not stored, such as function outputs, are
// ignored. A missing stored field or a column that does not fit its field is
// an error, and then nothing is appended.
func (b *Builder) Append(fields []*schemapb.FieldData, numRows int) error {
	if numRows < 0 {
		return fmt.Errorf("append: negative row count %d", numRows)
	}
	commits := make([]func(), len(b.cols))
	for i := range b.cols {
		c := &b.cols[i]
		fd := findColumn(fields, c.field)
		if fd == nil {
			return fmt.Errorf("append: query result has no column for field %q", c.field.GetName())
		}
		commit, err := c.prepare(fd, numRows, &b.scratch)
		if err != nil {
			return fmt.Errorf("append field %q: %w", c.field.GetName(), err)
		}
		commits[i] = commit
	}
	for _, commit := range commits {
		commit()
	}
	b.rows += numRows
	return nil
}

// findColumn returns the column of fields that holds f, or nil.
func findColumn(fields []*schemapb.FieldData, f *schemapb.FieldSchema) *schemapb.FieldData {
	for _, fd := range fields {
		if fd.GetFieldName() == f.GetName() {
			return fd
		}
	}
	if !f.GetIsDynamic() {
		return nil
	}
	for _, fd := range fields {
		if fd.GetIsDynamic() {
			return fd
		}
	}
	return nil
}

// Rows returns the number of rows buffered since the last NewRecord.
func (b *Builder) Rows() int { return b.rows }

// EstimatedBytes returns about how many bytes the buffered rows take, for
// rolling files over by size.
func (b *Builder) EstimatedBytes() int64 {
	var n int64
	for _, c := range b.cols {
		n += builderBytes(c.b)
	}
	return n
}

// builderBytes estimates the buffered bytes of one builder: values, offsets
// and validity bitmaps.
func builderBytes(b array.Builder) int64 {
	rows := int64(b.Len())
	bitmap := (rows + 7) / 8
	switch t := b.(type) {
	case *array.ListBuilder:
		return bitmap + 4*rows + builderBytes(t.ValueBuilder())
	case *array.StringBuilder:
		return bitmap + 4*rows + int64(t.DataLen())
	case *array.BooleanBuilder:
		return 2 * bitmap
	}
	if fw, ok := b.Type().(arrow.FixedWidthDataType); ok {
		return bitmap + rows*int64(fw.BitWidth()/8)
	}
	return bitmap
}

// NewRecord returns the buffered rows as one record and empties the
// Builder. The caller must Release the record.
//
// The emptied Builder reserves room for as many rows and bytes as the
// record holds: record after record is about the same size (a row group), so
// the next one is built without the builders' repeated growing and copying.
func (b *Builder) NewRecord() arrow.RecordBatch {
	b.rows = 0
	sizes := make([]reservation, len(b.cols))
	for i, c := range b.cols {
		sizes[i] = measureBuilder(c.b)
	}
	rec := b.rb.NewRecordBatch()
	for i, c := range b.cols {
		sizes[i].apply(c.b)
	}
	return rec
}

// reservation is the room one builder (and, for lists, its value builder)
// held: elements and, for strings and binaries, data bytes.
type reservation struct {
	n, data int
	values  *reservation
}

func measureBuilder(b array.Builder) reservation {
	r := reservation{n: b.Len()}
	switch t := b.(type) {
	case *array.ListBuilder:
		v := measureBuilder(t.ValueBuilder())
		r.values = &v
	case interface{ DataLen() int }:
		r.data = t.DataLen()
	}
	return r
}

func (r reservation) apply(b array.Builder) {
	if r.n == 0 {
		return
	}
	b.Reserve(r.n)
	switch t := b.(type) {
	case *array.ListBuilder:
		if r.values != nil {
			r.values.apply(t.ValueBuilder())
		}
	case interface{ ReserveData(int) }:
		t.ReserveData(r.data)
	}
}

// Release frees the buffered rows. The Builder must not be used afterwards.
func (b *Builder) Release() {
	b.rb.Release()
}
