package columnar

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
	"google.golang.org/protobuf/proto"
)

// nullableVectorFields returns nullable vector fields, which Milvus 2.6
// allows.
func nullableVectorFields() []testField {
	var out []testField
	for _, f := range vectorFields() {
		s := proto.Clone(f.schema).(*schemapb.FieldSchema)
		s.Name = "n_" + s.Name
		s.Nullable = true
		out = append(out, testField{s, nullEvery7(f.value)})
	}
	return out
}

// everyField returns one test field of every supported type and form.
func everyField() []testField {
	var out []testField
	for _, g := range [][]testField{scalarFields(), arrayFields(), vectorFields(), nullableFields(), nullableVectorFields()} {
		out = append(out, g...)
	}
	return append(out, dynamicField())
}

// TestRoundTripEachType sends each type alone through Builder, Parquet,
// OpenFile and ToFieldData, for several row counts and both null forms.
func TestRoundTripEachType(t *testing.T) {
	for _, f := range everyField() {
		for _, rows := range []int{0, 1, 50} {
			for _, form := range []nullForm{compactNulls, fullNulls} {
				if form == fullNulls && !f.schema.GetNullable() {
					continue
				}
				name := fmt.Sprintf("%s/%d_rows/%s", f.schema.GetName(), rows, []string{"compact", "full"}[form])
				t.Run(name, func(t *testing.T) {
					fields := []testField{pkField(), f}
					coll := schemaOf("c", fields, f.schema.GetIsDynamic())
					checkRoundTrip(t, coll, fields, rows, form)
				})
			}
		}
	}
}

// TestRoundTripAllTypes sends one collection with every type through, in
// several appends, records and read batches.
func TestRoundTripAllTypes(t *testing.T) {
	fields := append([]testField{pkField()}, everyField()...)
	coll := schemaOf("c", fields[:len(fields)-1], true) // $meta comes from EnableDynamicField
	checkRoundTrip(t, coll, fields, 333, fullNulls)
	checkRoundTrip(t, coll, fields, 333, compactNulls)
}

// checkRoundTrip appends rows of fields to a Builder in three parts, writes
// two records to Parquet, reads the file back in batches and checks every
// row of the Insert columns. It also checks that no Arrow memory leaks.
func checkRoundTrip(t *testing.T, coll *schemapb.CollectionSchema, fields []testField, rows int, form nullForm) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	b, err := NewBuilder(mem, coll)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Release()
	sch, err := ArrowSchema(coll)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	fw, err := NewFileWriter(&buf, sch, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cuts := []int{0, rows / 3, rows / 2, rows}
	for i := 0; i+1 < len(cuts); i++ {
		part := rowRange(cuts[i], cuts[i+1])
		if err := b.Append(columns(t, fields, part, form), len(part)); err != nil {
			t.Fatalf("append: %v", err)
		}
		if i == 0 || i == len(cuts)-2 {
			writeRecord(t, b, fw)
		}
	}
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	if got := readAndCompare(t, buf.Bytes(), coll, fields); got != rows {
		t.Errorf("read %d rows, want %d", got, rows)
	}
}

// writeRecord writes the rows buffered in b as one record.
func writeRecord(t *testing.T, b *Builder, fw *FileWriter) {
	t.Helper()
	n := b.Rows()
	rec := b.NewRecord()
	defer rec.Release()
	if rec.NumRows() != int64(n) || b.Rows() != 0 {
		t.Fatalf("record has %d rows, Rows said %d and now says %d", rec.NumRows(), n, b.Rows())
	}
	if err := fw.Write(rec); err != nil {
		t.Fatal(err)
	}
}

// readAndCompare reads a backup file in batches of 16 rows and compares
// the Insert columns of each batch with the values of fields.
func readAndCompare(t *testing.T, file []byte, coll *schemapb.CollectionSchema, fields []testField) int {
	t.Helper()
	r, err := OpenFile(context.Background(), bytes.NewReader(file), coll, 16)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	want, _ := ArrowSchema(coll)
	total := 0
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if !rec.Schema().Equal(want) {
			t.Errorf("record schema %s, want %s", rec.Schema(), want)
		}
		fds, err := ToFieldData(coll, rec)
		n := int(rec.NumRows())
		rec.Release()
		if err != nil {
			t.Fatal(err)
		}
		checkInsertForm(t, coll, fds, n)
		total += compareColumns(t, fields, fds, n)
	}
	if r.NumRows() != int64(total) {
		t.Errorf("NumRows = %d, read %d", r.NumRows(), total)
	}
	return total
}

// checkInsertForm checks that Insert columns carry ValidData exactly for
// nullable fields and values for valid rows only.
func checkInsertForm(t *testing.T, coll *schemapb.CollectionSchema, fds []*schemapb.FieldData, n int) {
	t.Helper()
	for i, f := range StoredFields(coll) {
		fd := fds[i]
		if fd.GetFieldName() != f.GetName() || fd.GetType() != f.GetDataType() || fd.GetIsDynamic() != f.GetIsDynamic() {
			t.Errorf("column %d is %s %s dynamic=%t, want %s %s dynamic=%t", i,
				fd.GetFieldName(), fd.GetType(), fd.GetIsDynamic(), f.GetName(), f.GetDataType(), f.GetIsDynamic())
		}
		valid := fd.GetValidData()
		if f.GetNullable() != (len(valid) == n && valid != nil) {
			t.Errorf("field %q: nullable=%t but %d valid_data for %d rows", f.GetName(), f.GetNullable(), len(valid), n)
		}
		values, err := wireValues(f, fd)
		if err != nil {
			t.Fatal(err)
		}
		if want := validCount(valid, n); len(values) != want {
			t.Errorf("field %q: %d values, want %d (compact form)", f.GetName(), len(values), want)
		}
	}
}

func validCount(valid []bool, n int) int {
	if valid == nil {
		return n
	}
	return countTrue(valid)
}

func TestBuilderIgnoresExtraColumns(t *testing.T) {
	fields := []testField{pkField(), scalarFields()[7]}
	coll := schemaOf("c", fields, false)
	coll.Fields = append(coll.Fields, &schemapb.FieldSchema{Name: "bm25", DataType: schemapb.DataType_SparseFloatVector, IsFunctionOutput: true})
	b, err := NewBuilder(memory.DefaultAllocator, coll)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Release()
	rows := rowRange(0, 5)
	cols := columns(t, fields, rows, compactNulls)
	cols = append(cols,
		makeFieldData(t, testField{&schemapb.FieldSchema{Name: "bm25", DataType: schemapb.DataType_SparseFloatVector}, sparseValue}, rows, compactNulls),
		makeFieldData(t, testField{&schemapb.FieldSchema{Name: "unknown", DataType: schemapb.DataType_Bool}, boolValue}, rows, compactNulls),
	)
	if err := b.Append(cols, len(rows)); err != nil {
		t.Fatal(err)
	}
	rec := b.NewRecord()
	defer rec.Release()
	if rec.NumCols() != 2 || rec.NumRows() != 5 {
		t.Errorf("record has %d columns and %d rows, want 2 and 5", rec.NumCols(), rec.NumRows())
	}
}

func TestBuilderMatchesDynamicColumnByFlag(t *testing.T) {
	fields := []testField{pkField(), dynamicField()}
	coll := schemaOf("c", fields[:1], true)
	b, err := NewBuilder(memory.DefaultAllocator, coll)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Release()
	cols := columns(t, fields, rowRange(0, 3), compactNulls)
	cols[1].FieldName = "" // as the Go SDK names a merged dynamic column
	if err := b.Append(cols, 3); err != nil {
		t.Fatal(err)
	}
	rec := b.NewRecord()
	defer rec.Release()
	fds, err := ToFieldData(coll, rec)
	if err != nil {
		t.Fatal(err)
	}
	compareColumns(t, fields, fds, 3)
}

func TestBuilderAcceptsAbsentDataForZeroRows(t *testing.T) {
	fields := []testField{pkField(), vectorFields()[0], arrayFields()[7], nullableFields()[7]}
	coll := schemaOf("c", fields, false)
	b, err := NewBuilder(memory.DefaultAllocator, coll)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Release()
	var cols []*schemapb.FieldData
	for _, f := range fields {
		cols = append(cols, &schemapb.FieldData{FieldName: f.schema.GetName(), Type: f.schema.GetDataType()})
	}
	if err := b.Append(cols, 0); err != nil {
		t.Fatal(err)
	}
	if b.Rows() != 0 || b.EstimatedBytes() != 0 {
		t.Errorf("Rows %d, EstimatedBytes %d after empty append", b.Rows(), b.EstimatedBytes())
	}
}

func TestEstimatedBytes(t *testing.T) {
	fields := []testField{pkField(), vectorFields()[0], scalarFields()[7], vectorFields()[5]}
	coll := schemaOf("c", fields, false)
	b, err := NewBuilder(memory.DefaultAllocator, coll)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Release()
	if got := b.EstimatedBytes(); got != 0 {
		t.Errorf("empty builder estimates %d bytes", got)
	}
	rows := rowRange(0, 100)
	if err := b.Append(columns(t, fields, rows, compactNulls), len(rows)); err != nil {
		t.Fatal(err)
	}
	// 100 int64 pks and 100 vectors of 8 float32 alone take 4,000 bytes.
	if got := b.EstimatedBytes(); got < 4000 || got > 20000 {
		t.Errorf("EstimatedBytes = %d, want between 4000 and 20000", got)
	}
	b.NewRecord().Release()
	if got := b.EstimatedBytes(); got != 0 {
		t.Errorf("EstimatedBytes after NewRecord = %d, want 0", got)
	}
}

func TestToFieldDataOfSlice(t *testing.T) {
	fields := append([]testField{pkField()}, everyField()...)
	coll := schemaOf("c", fields[:len(fields)-1], true)
	b, err := NewBuilder(memory.DefaultAllocator, coll)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Release()
	if err := b.Append(columns(t, fields, rowRange(0, 40), fullNulls), 40); err != nil {
		t.Fatal(err)
	}
	rec := b.NewRecord()
	defer rec.Release()
	for _, r := range [][2]int64{{0, 40}, {13, 29}, {39, 40}, {20, 20}} {
		t.Run(fmt.Sprintf("%d-%d", r[0], r[1]), func(t *testing.T) {
			s := rec.NewSlice(r[0], r[1])
			defer s.Release()
			fds, err := ToFieldData(coll, s)
			if err != nil {
				t.Fatal(err)
			}
			if got := compareColumns(t, fields, fds, int(r[1]-r[0])); got != int(r[1]-r[0]) {
				t.Errorf("compared %d rows", got)
			}
		})
	}
}
