package native

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
	"google.golang.org/protobuf/proto"
)

// fieldData builds the column of field f for the given rows of col (a
// decoded binlog column), as a Query response carries it.
func fieldData(f *schemapb.FieldSchema, col arrow.Array, rows []int) (*schemapb.FieldData, error) {
	fd := &schemapb.FieldData{FieldName: f.GetName(), FieldId: f.GetFieldID(), Type: f.GetDataType(), IsDynamic: f.GetIsDynamic()}
	bad := fmt.Errorf("field %s: binlog column %s does not match type %s", f.GetName(), col.DataType(), f.GetDataType())
	var sf *schemapb.ScalarField
	switch f.GetDataType() {
	case schemapb.DataType_Bool:
		a, ok := col.(*array.Boolean)
		if !ok {
			return nil, bad
		}
		sf = &schemapb.ScalarField{Data: &schemapb.ScalarField_BoolData{BoolData: &schemapb.BoolArray{Data: pick(rows, a.Value)}}}
	case schemapb.DataType_Int8, schemapb.DataType_Int16, schemapb.DataType_Int32:
		get := int32Getter(col)
		if get == nil {
			return nil, bad
		}
		sf = &schemapb.ScalarField{Data: &schemapb.ScalarField_IntData{IntData: &schemapb.IntArray{Data: pick(rows, get)}}}
	case schemapb.DataType_Int64:
		a, ok := col.(*array.Int64)
		if !ok {
			return nil, bad
		}
		sf = &schemapb.ScalarField{Data: &schemapb.ScalarField_LongData{LongData: &schemapb.LongArray{Data: pick(rows, a.Value)}}}
	case schemapb.DataType_Float:
		a, ok := col.(*array.Float32)
		if !ok {
			return nil, bad
		}
		sf = &schemapb.ScalarField{Data: &schemapb.ScalarField_FloatData{FloatData: &schemapb.FloatArray{Data: pick(rows, a.Value)}}}
	case schemapb.DataType_Double:
		a, ok := col.(*array.Float64)
		if !ok {
			return nil, bad
		}
		sf = &schemapb.ScalarField{Data: &schemapb.ScalarField_DoubleData{DoubleData: &schemapb.DoubleArray{Data: pick(rows, a.Value)}}}
	case schemapb.DataType_VarChar, schemapb.DataType_String:
		a, ok := col.(*array.String)
		if !ok {
			return nil, bad
		}
		sf = &schemapb.ScalarField{Data: &schemapb.ScalarField_StringData{StringData: &schemapb.StringArray{Data: pick(rows, a.Value)}}}
	case schemapb.DataType_JSON:
		a, ok := col.(*array.Binary)
		if !ok {
			return nil, bad
		}
		sf = &schemapb.ScalarField{Data: &schemapb.ScalarField_JsonData{JsonData: &schemapb.JSONArray{Data: pick(rows, func(i int) []byte { return append([]byte(nil), a.Value(i)...) })}}}
	case schemapb.DataType_Array:
		arrays, err := arrayData(f, col, rows, bad)
		if err != nil {
			return nil, err
		}
		sf = &schemapb.ScalarField{Data: &schemapb.ScalarField_ArrayData{ArrayData: arrays}}
	default:
		return vectorData(fd, f, col, rows, bad)
	}
	fd.Field = &schemapb.FieldData_Scalars{Scalars: sf}
	return fd, nil
}

// arrayData decodes the Array values of rows: Milvus 2.3 writes each row's
// array as a serialized schemapb.ScalarField in a binary column.
func arrayData(f *schemapb.FieldSchema, col arrow.Array, rows []int, bad error) (*schemapb.ArrayArray, error) {
	a, ok := col.(*array.Binary)
	if !ok {
		return nil, bad
	}
	out := &schemapb.ArrayArray{ElementType: f.GetElementType(), Data: make([]*schemapb.ScalarField, len(rows))}
	for j, i := range rows {
		v := &schemapb.ScalarField{}
		if err := proto.Unmarshal(a.Value(i), v); err != nil {
			return nil, fmt.Errorf("field %s: row %d: array value: %w", f.GetName(), i, err)
		}
		out.Data[j] = v
	}
	return out, nil
}

// vectorData fills fd with the dense vectors of rows.
func vectorData(fd *schemapb.FieldData, f *schemapb.FieldSchema, col arrow.Array, rows []int, bad error) (*schemapb.FieldData, error) {
	a, ok := col.(*array.FixedSizeBinary)
	if !ok {
		return nil, bad
	}
	dim, err := dimOf(f)
	if err != nil {
		return nil, err
	}
	var flat []byte
	for _, i := range rows {
		flat = append(flat, a.Value(i)...)
	}
	vf := &schemapb.VectorField{Dim: dim}
	switch f.GetDataType() {
	case schemapb.DataType_FloatVector:
		floats := make([]float32, len(flat)/4)
		for i := range floats {
			floats[i] = math.Float32frombits(binary.LittleEndian.Uint32(flat[4*i:]))
		}
		vf.Data = &schemapb.VectorField_FloatVector{FloatVector: &schemapb.FloatArray{Data: floats}}
	case schemapb.DataType_BinaryVector:
		vf.Data = &schemapb.VectorField_BinaryVector{BinaryVector: flat}
	case schemapb.DataType_Float16Vector:
		vf.Data = &schemapb.VectorField_Float16Vector{Float16Vector: flat}
	case schemapb.DataType_BFloat16Vector:
		vf.Data = &schemapb.VectorField_Bfloat16Vector{Bfloat16Vector: flat}
	default:
		return nil, fmt.Errorf("field %s: converting %s from segment files is not supported yet; take a logical backup of this collection", f.GetName(), f.GetDataType())
	}
	fd.Field = &schemapb.FieldData_Vectors{Vectors: vf}
	return fd, nil
}

func dimOf(f *schemapb.FieldSchema) (int64, error) {
	for _, kv := range f.GetTypeParams() {
		if kv.GetKey() == "dim" {
			return strconv.ParseInt(kv.GetValue(), 10, 64)
		}
	}
	return 0, fmt.Errorf("field %s has no dim", f.GetName())
}

func int32Getter(col arrow.Array) func(int) int32 {
	switch a := col.(type) {
	case *array.Int8:
		return func(i int) int32 { return int32(a.Value(i)) }
	case *array.Int16:
		return func(i int) int32 { return int32(a.Value(i)) }
	case *array.Int32:
		return a.Value
	}
	return nil
}

func pick[T any](rows []int, get func(int) T) []T {
	out := make([]T, len(rows))
	for j, i := range rows {
		out[j] = get(i)
	}
	return out
}
