package columnar

import (
	"math"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
)

// TestAppendRejectsBadColumns checks that Append reports bad input with the
// field name, appends nothing then, and keeps working afterwards.
func TestAppendRejectsBadColumns(t *testing.T) {
	fields := []testField{pkField(), scalarFields()[1], arrayFields()[3], vectorFields()[0], vectorFields()[5], nullableFields()[4]}
	const rows = 4
	good := func(t *testing.T) []*schemapb.FieldData { return columns(t, fields, rowRange(0, rows), compactNulls) }
	tests := []struct {
		name   string
		breakc func(cols []*schemapb.FieldData) []*schemapb.FieldData
		want   string
	}{
		{"missing field", func(c []*schemapb.FieldData) []*schemapb.FieldData { return c[1:] }, `no column for field "pk"`},
		{"wrong type", func(c []*schemapb.FieldData) []*schemapb.FieldData {
			c[0].Type = schemapb.DataType_Int32
			return c
		}, `field "pk": has data type Int32, want Int64`},
		{"too few values", func(c []*schemapb.FieldData) []*schemapb.FieldData {
			c[0].GetScalars().GetLongData().Data = []int64{1}
			return c
		}, `field "pk": has 1 values for 4 rows`},
		{"int8 out of range", func(c []*schemapb.FieldData) []*schemapb.FieldData {
			c[1].GetScalars().GetIntData().Data[2] = 300
			return c
		}, `field "f_int8": value 300 at 2 is out of range [-128, 127]`},
		{"array element type", func(c []*schemapb.FieldData) []*schemapb.FieldData {
			c[2].GetScalars().GetArrayData().ElementType = schemapb.DataType_Int64
			return c
		}, `field "a_int32": has element type Int64, want Int32`},
		{"array elements of another type", func(c []*schemapb.FieldData) []*schemapb.FieldData {
			c[2].GetScalars().GetArrayData().Data[1] = &schemapb.ScalarField{Data: &schemapb.ScalarField_LongData{LongData: &schemapb.LongArray{Data: []int64{1}}}}
			return c
		}, `field "a_int32": array 1: elements *schemapb.ScalarField_LongData do not fit element type Int32`},
		{"vector dim", func(c []*schemapb.FieldData) []*schemapb.FieldData {
			c[3].GetVectors().Dim = 4
			return c
		}, `field "v_float": has dim 4, want 8`},
		{"vector length", func(c []*schemapb.FieldData) []*schemapb.FieldData {
			fv := c[3].GetVectors().GetFloatVector()
			fv.Data = fv.Data[:len(fv.Data)-1]
			return c
		}, `field "v_float": has 31 values, not a multiple of the row width 8`},
		{"sparse row length", func(c []*schemapb.FieldData) []*schemapb.FieldData {
			sv := c[4].GetVectors().GetSparseFloatVector()
			sv.Contents[1] = sv.Contents[1][:7]
			return c
		}, `field "v_sparse": sparse row 1: length 7 is not a multiple of 8`},
		{"sparse NaN", func(c []*schemapb.FieldData) []*schemapb.FieldData {
			sv := c[4].GetVectors().GetSparseFloatVector()
			sv.Contents[0] = sparseRow(t, 5, float32(math.NaN()))
			return c
		}, `field "v_sparse": sparse row 0: index 5 has non-finite value NaN`},
		{"valid_data length", func(c []*schemapb.FieldData) []*schemapb.FieldData {
			c[5].ValidData = c[5].ValidData[:2]
			return c
		}, `field "n_int64": has 2 valid_data entries for 4 rows`},
		{"values fit neither null form", func(c []*schemapb.FieldData) []*schemapb.FieldData {
			c[5].ValidData = []bool{true, false, false, true}
			return c
		}, `field "n_int64": has 3 values for 4 rows of which 2 are valid`},
		{"null in field that is not nullable", func(c []*schemapb.FieldData) []*schemapb.FieldData {
			c[0].ValidData = []bool{true, false, true, true}
			return c
		}, `field "pk": has 1 null rows but the field is not nullable`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			b, err := NewBuilder(mem, schemaOf("c", fields, false))
			if err != nil {
				t.Fatal(err)
			}
			defer b.Release()
			if err := b.Append(good(t), rows); err != nil {
				t.Fatal(err)
			}
			err = b.Append(tt.breakc(good(t)), rows)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
			if b.Rows() != rows {
				t.Errorf("Rows = %d after a failed append, want %d", b.Rows(), rows)
			}
			if err := b.Append(good(t), rows); err != nil {
				t.Fatal(err)
			}
			rec := b.NewRecord() // panics if the failed append left columns uneven
			defer rec.Release()
			if rec.NumRows() != 2*rows {
				t.Errorf("record has %d rows, want %d", rec.NumRows(), 2*rows)
			}
		})
	}
}

func TestAppendRejectsNegativeRows(t *testing.T) {
	b, err := NewBuilder(memory.DefaultAllocator, schemaOf("c", []testField{pkField()}, false))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Release()
	if err := b.Append(nil, -1); err == nil {
		t.Error("Append(nil, -1) succeeded")
	}
}

func TestNewBuilderRejectsBadVectorDim(t *testing.T) {
	tests := []struct {
		name  string
		field *schemapb.FieldSchema
		want  string
	}{
		{"no dim", &schemapb.FieldSchema{Name: "v", DataType: schemapb.DataType_FloatVector}, `field "v": vector field has no dim`},
		{"bad dim", &schemapb.FieldSchema{Name: "v", DataType: schemapb.DataType_FloatVector, TypeParams: params("dim", "x")}, `field "v": invalid dim "x"`},
		{"binary dim", &schemapb.FieldSchema{Name: "v", DataType: schemapb.DataType_BinaryVector, TypeParams: params("dim", "12")}, `field "v": binary vector dim 12 is not a multiple of 8`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewBuilder(memory.DefaultAllocator, &schemapb.CollectionSchema{Fields: []*schemapb.FieldSchema{tt.field}})
			if err == nil || err.Error() != tt.want {
				t.Errorf("got %v, want %q", err, tt.want)
			}
		})
	}
}

// TestToFieldDataRejectsBadRecords builds records by hand that do not fit
// their collection.
func TestToFieldDataRejectsBadRecords(t *testing.T) {
	vec := &schemapb.FieldSchema{Name: "v", DataType: schemapb.DataType_FloatVector, TypeParams: []*commonpb.KeyValuePair{{Key: "dim", Value: "2"}}}
	pk := &schemapb.FieldSchema{Name: "pk", DataType: schemapb.DataType_Int64}
	sparse := &schemapb.FieldSchema{Name: "s", DataType: schemapb.DataType_SparseFloatVector}
	tests := []struct {
		name  string
		field *schemapb.FieldSchema
		fill  func(b array.Builder)
		want  string
	}{
		{"null in field that is not nullable", pk, func(b array.Builder) {
			b.(*array.Int64Builder).AppendValues([]int64{1, 2}, []bool{true, false})
		}, `to field data "pk": row 1 is null but the field is not nullable`},
		{"vector of wrong length", vec, func(b array.Builder) {
			lb := b.(*array.ListBuilder)
			lb.Append(true)
			lb.ValueBuilder().(*array.Float32Builder).AppendValues([]float32{1, 2, 3}, nil)
		}, `to field data "v": row 0 has 3 values, want 2`},
		{"null vector element", vec, func(b array.Builder) {
			lb := b.(*array.ListBuilder)
			lb.Append(true)
			lb.ValueBuilder().(*array.Float32Builder).AppendValues([]float32{1, 2}, []bool{true, false})
		}, `to field data "v": list elements must not be null`},
		{"sparse text", sparse, func(b array.Builder) {
			b.(*array.StringBuilder).Append(`{"1":0.5,"x":1}`)
		}, `to field data "s": row 0: index "x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			coll := &schemapb.CollectionSchema{Fields: []*schemapb.FieldSchema{tt.field}}
			rec := buildRecord(t, coll, tt.fill)
			defer rec.Release()
			_, err := ToFieldData(coll, rec)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
	t.Run("schema mismatch", func(t *testing.T) {
		rec := buildRecord(t, &schemapb.CollectionSchema{Fields: []*schemapb.FieldSchema{pk}}, func(array.Builder) {})
		defer rec.Release()
		_, err := ToFieldData(&schemapb.CollectionSchema{Fields: []*schemapb.FieldSchema{vec}}, rec)
		if err == nil || !strings.Contains(err.Error(), `column "v"`) {
			t.Errorf("got %v, want an error naming column v", err)
		}
	})
}

// buildRecord makes a one-column record of coll filled by fill.
func buildRecord(t *testing.T, coll *schemapb.CollectionSchema, fill func(array.Builder)) arrow.RecordBatch {
	t.Helper()
	sch, err := ArrowSchema(coll)
	if err != nil {
		t.Fatal(err)
	}
	rb := array.NewRecordBuilder(memory.DefaultAllocator, sch)
	defer rb.Release()
	fill(rb.Field(0))
	return rb.NewRecordBatch()
}
