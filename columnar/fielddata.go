package columnar

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
)

// ToFieldData converts rec, a record in the layout of ArrowSchema(coll),
// into Insert columns for coll, one per stored field. To convert only some
// rows, pass rec.NewSlice(offset, offset+length).
//
// Nullable fields get ValidData with one entry per row and values for the
// valid rows only, the compact form that Insert accepts. The result shares
// no memory with rec.
func ToFieldData(coll *schemapb.CollectionSchema, rec arrow.RecordBatch) ([]*schemapb.FieldData, error) {
	want, err := ArrowSchema(coll)
	if err != nil {
		return nil, err
	}
	if err := checkSchema(want, rec.Schema()); err != nil {
		return nil, fmt.Errorf("to field data: %w", err)
	}
	stored := StoredFields(coll)
	out := make([]*schemapb.FieldData, len(stored))
	for i, f := range stored {
		fd, err := toFieldData(f, rec.Column(i))
		if err != nil {
			return nil, fmt.Errorf("to field data %q: %w", f.GetName(), err)
		}
		out[i] = fd
	}
	return out, nil
}

// toFieldData converts the column of one field.
func toFieldData(f *schemapb.FieldSchema, arr arrow.Array) (*schemapb.FieldData, error) {
	valid, err := validity(f, arr)
	if err != nil {
		return nil, err
	}
	fd := &schemapb.FieldData{
		Type:      f.GetDataType(),
		FieldName: f.GetName(),
		IsDynamic: f.GetIsDynamic(),
		ValidData: valid,
	}
	switch dt := f.GetDataType(); {
	case isDenseVector(dt):
		fd.Field, err = denseVectorField(f, arr.(*array.List), valid)
	case dt == schemapb.DataType_SparseFloatVector:
		fd.Field, err = sparseVectorField(arr.(*array.String), valid)
	case dt == schemapb.DataType_Array:
		fd.Field, err = arrayField(f, arr.(*array.List), valid)
	default:
		fd.Field, err = scalarField(f, arr, valid)
	}
	if err != nil {
		return nil, err
	}
	return fd, nil
}

// validity returns the ValidData of a column: nil for a field that is not
// nullable, one entry per row otherwise. A null in a field that is not
// nullable is an error.
func validity(f *schemapb.FieldSchema, arr arrow.Array) ([]bool, error) {
	if !f.GetNullable() {
		if arr.NullN() > 0 {
			return nil, fmt.Errorf("row %d is null but the field is not nullable", firstNull(arr))
		}
		return nil, nil
	}
	valid := make([]bool, arr.Len())
	for i := range valid {
		valid[i] = arr.IsValid(i)
	}
	return valid, nil
}

// firstNull returns the index of the first null of arr, or -1.
func firstNull(arr arrow.Array) int {
	for i := 0; i < arr.Len(); i++ {
		if arr.IsNull(i) {
			return i
		}
	}
	return -1
}

// keep returns a copy of the values of the valid rows.
func keep[T any](values []T, valid []bool) []T {
	out := make([]T, 0, len(values))
	for i, v := range values {
		if valid == nil || valid[i] {
			out = append(out, v)
		}
	}
	return out
}

// keepWidened returns the values of the valid rows as int32, the wire type
// of Int8 and Int16.
func keepWidened[T int8 | int16](values []T, valid []bool) []int32 {
	out := make([]int32, 0, len(values))
	for i, v := range values {
		if valid == nil || valid[i] {
			out = append(out, int32(v))
		}
	}
	return out
}

// keepBools returns the values of the valid rows of a boolean column.
func keepBools(arr *array.Boolean, valid []bool) []bool {
	out := make([]bool, 0, arr.Len())
	for i := 0; i < arr.Len(); i++ {
		if valid == nil || valid[i] {
			out = append(out, arr.Value(i))
		}
	}
	return out
}

// keepStrings returns the values of the valid rows of a string column. All
// of them share one copy of the column's bytes.
func keepStrings(arr *array.String, valid []bool) []string {
	if arr.Len() == 0 {
		return []string{}
	}
	all := string(arr.ValueBytes())
	offs := arr.ValueOffsets()
	out := make([]string, 0, arr.Len())
	for i := 0; i < arr.Len(); i++ {
		if valid == nil || valid[i] {
			out = append(out, all[offs[i]-offs[0]:offs[i+1]-offs[0]])
		}
	}
	return out
}

// keepBytes is keepStrings for JSON columns, whose wire type is []byte.
func keepBytes(arr *array.String, valid []bool) [][]byte {
	if arr.Len() == 0 {
		return [][]byte{}
	}
	all := append([]byte(nil), arr.ValueBytes()...)
	offs := arr.ValueOffsets()
	out := make([][]byte, 0, arr.Len())
	for i := 0; i < arr.Len(); i++ {
		if valid == nil || valid[i] {
			lo, hi := offs[i]-offs[0], offs[i+1]-offs[0]
			out = append(out, all[lo:hi:hi])
		}
	}
	return out
}

// scalarField converts a flat column.
func scalarField(f *schemapb.FieldSchema, arr arrow.Array, valid []bool) (*schemapb.FieldData_Scalars, error) {
	sf := &schemapb.ScalarField{}
	switch f.GetDataType() {
	case schemapb.DataType_Bool:
		sf.Data = &schemapb.ScalarField_BoolData{BoolData: &schemapb.BoolArray{Data: keepBools(arr.(*array.Boolean), valid)}}
	case schemapb.DataType_Int8:
		sf.Data = intData(keepWidened(arr.(*array.Int8).Int8Values(), valid))
	case schemapb.DataType_Int16:
		sf.Data = intData(keepWidened(arr.(*array.Int16).Int16Values(), valid))
	case schemapb.DataType_Int32:
		sf.Data = intData(keep(arr.(*array.Int32).Int32Values(), valid))
	case schemapb.DataType_Int64:
		sf.Data = &schemapb.ScalarField_LongData{LongData: &schemapb.LongArray{Data: keep(arr.(*array.Int64).Int64Values(), valid)}}
	case schemapb.DataType_Float:
		sf.Data = &schemapb.ScalarField_FloatData{FloatData: &schemapb.FloatArray{Data: keep(arr.(*array.Float32).Float32Values(), valid)}}
	case schemapb.DataType_Double:
		sf.Data = &schemapb.ScalarField_DoubleData{DoubleData: &schemapb.DoubleArray{Data: keep(arr.(*array.Float64).Float64Values(), valid)}}
	case schemapb.DataType_VarChar, schemapb.DataType_String:
		sf.Data = &schemapb.ScalarField_StringData{StringData: &schemapb.StringArray{Data: keepStrings(arr.(*array.String), valid)}}
	case schemapb.DataType_JSON:
		sf.Data = &schemapb.ScalarField_JsonData{JsonData: &schemapb.JSONArray{Data: keepBytes(arr.(*array.String), valid)}}
	default:
		return nil, &UnsupportedTypeError{Field: f.GetName(), Type: f.GetDataType()}
	}
	return &schemapb.FieldData_Scalars{Scalars: sf}, nil
}

// intData wraps int32 wire values.
func intData(v []int32) *schemapb.ScalarField_IntData {
	return &schemapb.ScalarField_IntData{IntData: &schemapb.IntArray{Data: v}}
}
