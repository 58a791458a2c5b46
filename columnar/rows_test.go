package columnar

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"testing"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
)

// This file holds the test data shared by the unit and integration tests:
// deterministic row values per field, FieldData built from them in either
// null form, and an independent reading of FieldData back into row values.
//
// Row values use one Go type per Milvus type: bool, int32 (Int8, Int16,
// Int32), int64, float32, float64, string, []byte (JSON, byte vectors and
// sparse wire rows), []float32 (float vectors), and for arrays []bool,
// []int32, []int64, []float32, []float64 or []string. nil is a null.

// nullForm is how a nullable column carries its null rows.
type nullForm int

const (
	compactNulls nullForm = iota // values for valid rows only
	fullNulls                    // a zero placeholder at every null row
)

// testField is one field of a test schema and the value of each of its rows.
type testField struct {
	schema *schemapb.FieldSchema
	value  func(row int) any
}

// params builds type parameters from key, value pairs.
func params(kv ...string) []*commonpb.KeyValuePair {
	out := make([]*commonpb.KeyValuePair, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, &commonpb.KeyValuePair{Key: kv[i], Value: kv[i+1]})
	}
	return out
}

// nullEvery7 makes value null on rows 3, 10, 17, ...
func nullEvery7(value func(int) any) func(int) any {
	return func(i int) any {
		if i%7 == 3 {
			return nil
		}
		return value(i)
	}
}

func pkField() testField {
	return testField{
		schema: &schemapb.FieldSchema{Name: "pk", DataType: schemapb.DataType_Int64, IsPrimaryKey: true},
		value:  func(i int) any { return int64(i) },
	}
}

// scalarFields returns one field of every scalar type.
func scalarFields() []testField {
	return []testField{
		{&schemapb.FieldSchema{Name: "f_bool", DataType: schemapb.DataType_Bool}, boolValue},
		{&schemapb.FieldSchema{Name: "f_int8", DataType: schemapb.DataType_Int8}, int8Value},
		{&schemapb.FieldSchema{Name: "f_int16", DataType: schemapb.DataType_Int16}, int16Value},
		{&schemapb.FieldSchema{Name: "f_int32", DataType: schemapb.DataType_Int32}, int32Value},
		{&schemapb.FieldSchema{Name: "f_int64", DataType: schemapb.DataType_Int64}, int64Value},
		{&schemapb.FieldSchema{Name: "f_float", DataType: schemapb.DataType_Float}, floatValue},
		{&schemapb.FieldSchema{Name: "f_double", DataType: schemapb.DataType_Double}, doubleValue},
		{&schemapb.FieldSchema{Name: "f_varchar", DataType: schemapb.DataType_VarChar, TypeParams: params("max_length", "256")}, stringValue},
		{&schemapb.FieldSchema{Name: "f_json", DataType: schemapb.DataType_JSON}, jsonValue},
	}
}

// arrayFields returns one Array field of every element type.
func arrayFields() []testField {
	arr := func(name string, elem schemapb.DataType, value func(int) any) testField {
		return testField{&schemapb.FieldSchema{
			Name: name, DataType: schemapb.DataType_Array, ElementType: elem,
			TypeParams: params("max_capacity", "8", "max_length", "64"),
		}, value}
	}
	return []testField{
		arr("a_bool", schemapb.DataType_Bool, func(i int) any { return arrayOf(i, boolValue) }),
		arr("a_int8", schemapb.DataType_Int8, func(i int) any { return arrayOf(i, int8Value) }),
		arr("a_int16", schemapb.DataType_Int16, func(i int) any { return arrayOf(i, int16Value) }),
		arr("a_int32", schemapb.DataType_Int32, func(i int) any { return arrayOf(i, int32Value) }),
		arr("a_int64", schemapb.DataType_Int64, func(i int) any { return arrayOf(i, int64Value) }),
		arr("a_float", schemapb.DataType_Float, func(i int) any { return arrayOf(i, floatValue) }),
		arr("a_double", schemapb.DataType_Double, func(i int) any { return arrayOf(i, doubleValue) }),
		arr("a_varchar", schemapb.DataType_VarChar, func(i int) any { return arrayOf(i, shortStringValue) }),
	}
}

// vectorFields returns one field of every vector type.
func vectorFields() []testField {
	vec := func(name string, dt schemapb.DataType, dim int, value func(int) any) testField {
		return testField{&schemapb.FieldSchema{Name: name, DataType: dt, TypeParams: params("dim", strconv.Itoa(dim))}, value}
	}
	return []testField{
		vec("v_float", schemapb.DataType_FloatVector, 8, func(i int) any { return floatVector(i, 8) }),
		vec("v_binary", schemapb.DataType_BinaryVector, 16, func(i int) any { return byteVector(i, 2, 0) }),
		vec("v_float16", schemapb.DataType_Float16Vector, 4, func(i int) any { return halfVector(i, 4, 0x38) }),
		vec("v_bfloat16", schemapb.DataType_BFloat16Vector, 4, func(i int) any { return halfVector(i, 4, 0x3e) }),
		vec("v_int8", schemapb.DataType_Int8Vector, 8, func(i int) any { return byteVector(i, 8, 7) }),
		{&schemapb.FieldSchema{Name: "v_sparse", DataType: schemapb.DataType_SparseFloatVector}, sparseValue},
	}
}

// nullableFields returns nullable fields of several types. Besides nulls
// they hold zero values, empty strings and empty arrays, which must not turn
// into nulls.
func nullableFields() []testField {
	n := func(name string, dt schemapb.DataType, value func(int) any, kv ...string) testField {
		return testField{&schemapb.FieldSchema{Name: name, DataType: dt, Nullable: true, TypeParams: params(kv...)}, nullEvery7(value)}
	}
	na := n("n_array", schemapb.DataType_Array, func(i int) any { return arrayOf(i, int32Value) }, "max_capacity", "8")
	na.schema.ElementType = schemapb.DataType_Int32
	return []testField{
		n("n_bool", schemapb.DataType_Bool, boolValue),
		n("n_int8", schemapb.DataType_Int8, int8Value),
		n("n_int16", schemapb.DataType_Int16, int16Value),
		n("n_int32", schemapb.DataType_Int32, int32Value),
		n("n_int64", schemapb.DataType_Int64, int64Value),
		n("n_float", schemapb.DataType_Float, floatValue),
		n("n_double", schemapb.DataType_Double, doubleValue),
		n("n_varchar", schemapb.DataType_VarChar, stringValue, "max_length", "256"),
		n("n_json", schemapb.DataType_JSON, jsonValue),
		na,
	}
}

// dynamicField is the $meta field of a collection with the dynamic field
// enabled, as the server describes it.
func dynamicField() testField {
	return testField{
		schema: &schemapb.FieldSchema{Name: DynamicFieldName, DataType: schemapb.DataType_JSON, IsDynamic: true},
		value: func(i int) any {
			if i%2 == 1 {
				return []byte(`{}`)
			}
			return []byte(fmt.Sprintf(`{"dyn_int":%d,"dyn_str":"d-%d-ü"}`, i, i))
		},
	}
}

func boolValue(i int) any  { return i%3 == 0 }
func int8Value(i int) any  { return int32(int8(i*37 + 11)) }
func int16Value(i int) any { return int32(int16(i*1237 - 9)) }

func int32Value(i int) any {
	switch i % 100 {
	case 5:
		return int32(math.MinInt32)
	case 6:
		return int32(math.MaxInt32)
	}
	return int32(i*1000003) * int32(1-2*(i%2))
}

func int64Value(i int) any {
	switch i % 100 {
	case 7:
		return int64(math.MaxInt64)
	case 8:
		return int64(math.MinInt64)
	}
	return int64(i) * 1_000_000_000_007 * int64(1-2*(i%2))
}

func floatValue(i int) any {
	switch i % 50 {
	case 1:
		return float32(math.MaxFloat32)
	case 2:
		return float32(math.SmallestNonzeroFloat32)
	case 4:
		return float32(0)
	}
	return float32(i)*0.1 - 33.3
}

func doubleValue(i int) any {
	if i%50 == 9 {
		return math.MaxFloat64
	}
	return float64(i)/3 - 100
}

func stringValue(i int) any {
	switch i % 50 {
	case 0:
		return ""
	case 1:
		return "\"quoted\" \\ back\tslash\n"
	}
	return fmt.Sprintf("row-%d-héllo-世界-🚀", i)
}

func shortStringValue(i int) any { return fmt.Sprintf("s%dé", i%1000) }

func jsonValue(i int) any {
	switch i % 10 {
	case 0:
		return []byte(`{}`)
	case 1:
		return []byte(fmt.Sprintf(`{"list":[1,2.5,"x",null,true],"n":%d}`, i))
	}
	return []byte(fmt.Sprintf(`{"i":%d,"s":"é-%d","nested":{"f":%g,"b":%t}}`, i, i, float64(i)/8, i%2 == 0))
}

// arrayOf returns the array of row i: i%5 elements, so every fifth array is
// empty, built from elem.
func arrayOf(i int, elem func(int) any) any {
	n := i % 5
	sample := elem(i)
	out := reflect.MakeSlice(reflect.SliceOf(reflect.TypeOf(sample)), 0, n)
	for k := 0; k < n; k++ {
		out = reflect.Append(out, reflect.ValueOf(elem(i*5+k)))
	}
	return out.Interface()
}

func floatVector(i, dim int) []float32 {
	v := make([]float32, dim)
	for k := range v {
		v[k] = float32(math.Sin(float64(i*dim+k))) * 10
	}
	return v
}

// byteVector returns n bytes that vary with the row.
func byteVector(i, n, mul int) []byte {
	v := make([]byte, n)
	for k := range v {
		v[k] = byte(i*(mul+3) + k*mul + i/256)
	}
	return v
}

// halfVector returns dim 16-bit floats whose high bytes stay near high,
// which keeps them finite both as float16 and as bfloat16.
func halfVector(i, dim int, high byte) []byte {
	v := make([]byte, 2*dim)
	for k := 0; k < dim; k++ {
		v[2*k] = byte(i + 31*k)
		v[2*k+1] = high + byte((i+k)%2)
	}
	return v
}

// sparseValue returns the wire row of row i: 1 to 4 pairs, with indexes up
// to 4e9 and values that need all their float32 digits.
func sparseValue(i int) any {
	n := 1 + i%4
	row := make([]byte, 0, n*sparsePairSize)
	for k := 0; k < n; k++ {
		idx := uint32(i*13 + k*100_003)
		if k == 3 {
			idx = 4_000_000_000 + uint32(i)
		}
		val := float32(i+1)*0.1 + float32(k)/3
		row = binary.LittleEndian.AppendUint32(row, idx)
		row = binary.LittleEndian.AppendUint32(row, math.Float32bits(val))
	}
	return row
}

// rowRange returns the row numbers [from, to).
func rowRange(from, to int) []int {
	out := make([]int, 0, to-from)
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

// makeFieldData builds the column of f for rows, in the given null form.
func makeFieldData(t testing.TB, f testField, rows []int, form nullForm) *schemapb.FieldData {
	t.Helper()
	values := make([]any, 0, len(rows))
	var valid []bool
	for _, r := range rows {
		v := f.value(r)
		if f.schema.GetNullable() {
			valid = append(valid, v != nil)
		}
		if v == nil && form == fullNulls {
			v = zeroValue(f.schema)
		}
		if v != nil {
			values = append(values, v)
		}
	}
	fd := &schemapb.FieldData{
		Type:      f.schema.GetDataType(),
		FieldName: f.schema.GetName(),
		IsDynamic: f.schema.GetIsDynamic(),
		ValidData: valid,
	}
	setWireColumn(t, fd, f.schema, values)
	return fd
}

// zeroValue is the placeholder of a null row in the full null form.
func zeroValue(f *schemapb.FieldSchema) any {
	switch f.GetDataType() {
	case schemapb.DataType_Bool:
		return false
	case schemapb.DataType_Int8, schemapb.DataType_Int16, schemapb.DataType_Int32:
		return int32(0)
	case schemapb.DataType_Int64:
		return int64(0)
	case schemapb.DataType_Float:
		return float32(0)
	case schemapb.DataType_Double:
		return float64(0)
	case schemapb.DataType_VarChar:
		return ""
	case schemapb.DataType_JSON:
		return []byte(nil)
	case schemapb.DataType_Array:
		return reflect.Zero(reflect.TypeOf(arrayOf(1, elementValue(f.GetElementType())))).Interface()
	case schemapb.DataType_FloatVector:
		dim, _ := vectorDim(f)
		return make([]float32, dim)
	case schemapb.DataType_SparseFloatVector:
		return []byte{}
	}
	w, _ := vectorRowWidth(f)
	return make([]byte, w)
}

// elementValue returns a value function of the element type elem.
func elementValue(elem schemapb.DataType) func(int) any {
	switch elem {
	case schemapb.DataType_Bool:
		return boolValue
	case schemapb.DataType_Int8, schemapb.DataType_Int16, schemapb.DataType_Int32:
		return int32Value
	case schemapb.DataType_Int64:
		return int64Value
	case schemapb.DataType_Float:
		return floatValue
	case schemapb.DataType_Double:
		return doubleValue
	}
	return shortStringValue
}

// setWireColumn packs values, one per present row, into fd.
func setWireColumn(t testing.TB, fd *schemapb.FieldData, f *schemapb.FieldSchema, values []any) {
	t.Helper()
	scalars := func(sf *schemapb.ScalarField) { fd.Field = &schemapb.FieldData_Scalars{Scalars: sf} }
	switch f.GetDataType() {
	case schemapb.DataType_Bool:
		scalars(&schemapb.ScalarField{Data: &schemapb.ScalarField_BoolData{BoolData: &schemapb.BoolArray{Data: collect[bool](values)}}})
		return
	case schemapb.DataType_Int8, schemapb.DataType_Int16, schemapb.DataType_Int32:
		scalars(&schemapb.ScalarField{Data: intData(collect[int32](values))})
		return
	case schemapb.DataType_Int64:
		scalars(&schemapb.ScalarField{Data: &schemapb.ScalarField_LongData{LongData: &schemapb.LongArray{Data: collect[int64](values)}}})
		return
	case schemapb.DataType_Float:
		scalars(&schemapb.ScalarField{Data: &schemapb.ScalarField_FloatData{FloatData: &schemapb.FloatArray{Data: collect[float32](values)}}})
		return
	case schemapb.DataType_Double:
		scalars(&schemapb.ScalarField{Data: &schemapb.ScalarField_DoubleData{DoubleData: &schemapb.DoubleArray{Data: collect[float64](values)}}})
		return
	case schemapb.DataType_VarChar:
		scalars(&schemapb.ScalarField{Data: &schemapb.ScalarField_StringData{StringData: &schemapb.StringArray{Data: collect[string](values)}}})
		return
	case schemapb.DataType_JSON:
		scalars(&schemapb.ScalarField{Data: &schemapb.ScalarField_JsonData{JsonData: &schemapb.JSONArray{Data: collect[[]byte](values)}}})
		return
	case schemapb.DataType_Array:
		rows := make([]*schemapb.ScalarField, len(values))
		for i, v := range values {
			rows[i] = arrayRow(t, v)
		}
		scalars(&schemapb.ScalarField{Data: &schemapb.ScalarField_ArrayData{ArrayData: &schemapb.ArrayArray{ElementType: f.GetElementType(), Data: rows}}})
		return
	case schemapb.DataType_SparseFloatVector:
		rows := collect[[]byte](values)
		dim := int64(0)
		for _, r := range rows {
			for k := 0; k+sparsePairSize <= len(r); k += sparsePairSize {
				dim = max(dim, int64(binary.LittleEndian.Uint32(r[k:]))+1)
			}
		}
		sv := &schemapb.SparseFloatArray{Dim: dim, Contents: rows}
		fd.Field = &schemapb.FieldData_Vectors{Vectors: &schemapb.VectorField{Dim: dim, Data: &schemapb.VectorField_SparseFloatVector{SparseFloatVector: sv}}}
		return
	}
	dim, err := vectorDim(f)
	if err != nil {
		t.Fatal(err)
	}
	vf := &schemapb.VectorField{Dim: int64(dim)}
	switch f.GetDataType() {
	case schemapb.DataType_FloatVector:
		vf.Data = &schemapb.VectorField_FloatVector{FloatVector: &schemapb.FloatArray{Data: concat(collect[[]float32](values))}}
	case schemapb.DataType_BinaryVector:
		vf.Data = &schemapb.VectorField_BinaryVector{BinaryVector: concat(collect[[]byte](values))}
	case schemapb.DataType_Float16Vector:
		vf.Data = &schemapb.VectorField_Float16Vector{Float16Vector: concat(collect[[]byte](values))}
	case schemapb.DataType_BFloat16Vector:
		vf.Data = &schemapb.VectorField_Bfloat16Vector{Bfloat16Vector: concat(collect[[]byte](values))}
	case schemapb.DataType_Int8Vector:
		vf.Data = &schemapb.VectorField_Int8Vector{Int8Vector: concat(collect[[]byte](values))}
	default:
		t.Fatalf("wire column: unsupported type %s", f.GetDataType())
	}
	fd.Field = &schemapb.FieldData_Vectors{Vectors: vf}
}

// arrayRow packs the elements of one array row.
func arrayRow(t testing.TB, v any) *schemapb.ScalarField {
	t.Helper()
	switch e := v.(type) {
	case []bool:
		return &schemapb.ScalarField{Data: &schemapb.ScalarField_BoolData{BoolData: &schemapb.BoolArray{Data: e}}}
	case []int32:
		return &schemapb.ScalarField{Data: intData(e)}
	case []int64:
		return &schemapb.ScalarField{Data: &schemapb.ScalarField_LongData{LongData: &schemapb.LongArray{Data: e}}}
	case []float32:
		return &schemapb.ScalarField{Data: &schemapb.ScalarField_FloatData{FloatData: &schemapb.FloatArray{Data: e}}}
	case []float64:
		return &schemapb.ScalarField{Data: &schemapb.ScalarField_DoubleData{DoubleData: &schemapb.DoubleArray{Data: e}}}
	case []string:
		return &schemapb.ScalarField{Data: &schemapb.ScalarField_StringData{StringData: &schemapb.StringArray{Data: e}}}
	}
	t.Fatalf("array row: unexpected %T", v)
	return nil
}

func collect[T any](values []any) []T {
	out := make([]T, len(values))
	for i, v := range values {
		out[i] = v.(T)
	}
	return out
}

func concat[T any](rows [][]T) []T {
	var out []T
	for _, r := range rows {
		out = append(out, r...)
	}
	return out
}

// readRows reads the n row values of fd, a column of f, independently of
// the package code. It accepts both null forms.
func readRows(f *schemapb.FieldSchema, fd *schemapb.FieldData, n int) ([]any, error) {
	values, err := wireValues(f, fd)
	if err != nil {
		return nil, err
	}
	valid := fd.GetValidData()
	out := make([]any, n)
	switch {
	case len(valid) == 0 && len(values) == n:
		copy(out, values)
	case len(valid) == n && len(values) == n:
		for i := range out {
			if valid[i] {
				out[i] = values[i]
			}
		}
	case len(valid) == n && len(values) == countTrue(valid):
		j := 0
		for i := range out {
			if valid[i] {
				out[i] = values[j]
				j++
			}
		}
	default:
		return nil, fmt.Errorf("field %q: %d values and %d valid_data for %d rows", f.GetName(), len(values), len(valid), n)
	}
	return out, nil
}

// wireValues unpacks the values of fd, one per present row.
func wireValues(f *schemapb.FieldSchema, fd *schemapb.FieldData) ([]any, error) {
	s, v := fd.GetScalars(), fd.GetVectors()
	switch f.GetDataType() {
	case schemapb.DataType_Bool:
		return anys(s.GetBoolData().GetData()), nil
	case schemapb.DataType_Int8, schemapb.DataType_Int16, schemapb.DataType_Int32:
		return anys(s.GetIntData().GetData()), nil
	case schemapb.DataType_Int64:
		return anys(s.GetLongData().GetData()), nil
	case schemapb.DataType_Float:
		return anys(s.GetFloatData().GetData()), nil
	case schemapb.DataType_Double:
		return anys(s.GetDoubleData().GetData()), nil
	case schemapb.DataType_VarChar, schemapb.DataType_String:
		return anys(s.GetStringData().GetData()), nil
	case schemapb.DataType_JSON:
		return anys(s.GetJsonData().GetData()), nil
	case schemapb.DataType_Array:
		return arrayValues(f, s.GetArrayData().GetData()), nil
	case schemapb.DataType_SparseFloatVector:
		rows := v.GetSparseFloatVector().GetContents()
		out := make([]any, len(rows))
		for i, r := range rows {
			out[i] = sortedSparse(r)
		}
		return out, nil
	case schemapb.DataType_FloatVector:
		dim, _ := vectorDim(f)
		return chunk(v.GetFloatVector().GetData(), dim), nil
	}
	w, err := vectorRowWidth(f)
	if err != nil {
		return nil, err
	}
	var data []byte
	switch d := v.GetData().(type) {
	case *schemapb.VectorField_Int8Vector:
		data = d.Int8Vector
	default:
		data = vectorBytes(v)
	}
	return chunk(data, w), nil
}

// arrayValues reads array rows as typed slices; an absent row is empty.
func arrayValues(f *schemapb.FieldSchema, rows []*schemapb.ScalarField) []any {
	out := make([]any, len(rows))
	for i, r := range rows {
		switch f.GetElementType() {
		case schemapb.DataType_Bool:
			out[i] = nonNil(r.GetBoolData().GetData())
		case schemapb.DataType_Int8, schemapb.DataType_Int16, schemapb.DataType_Int32:
			out[i] = nonNil(r.GetIntData().GetData())
		case schemapb.DataType_Int64:
			out[i] = nonNil(r.GetLongData().GetData())
		case schemapb.DataType_Float:
			out[i] = nonNil(r.GetFloatData().GetData())
		case schemapb.DataType_Double:
			out[i] = nonNil(r.GetDoubleData().GetData())
		default:
			out[i] = nonNil(r.GetStringData().GetData())
		}
	}
	return out
}

func nonNil[T any](v []T) []T {
	if v == nil {
		return []T{}
	}
	return v
}

func anys[T any](v []T) []any {
	out := make([]any, len(v))
	for i, x := range v {
		out[i] = x
	}
	return out
}

func chunk[T any](data []T, width int) []any {
	if width <= 0 {
		return nil
	}
	out := make([]any, 0, len(data)/width)
	for i := 0; i+width <= len(data); i += width {
		out = append(out, data[i:i+width])
	}
	return out
}

// sortedSparse returns a copy of a sparse wire row with pairs sorted by
// index.
func sortedSparse(row []byte) []byte {
	out := append([]byte{}, row...)
	sort.Sort(sparsePairs(out))
	return out
}

// diffValue describes how got differs from want, or returns "". JSON is
// compared by meaning, floats by value.
func diffValue(f *schemapb.FieldSchema, want, got any) string {
	if want == nil || got == nil {
		if want == nil && got == nil {
			return ""
		}
		return fmt.Sprintf("got %s, want %s", show(got), show(want))
	}
	if f.GetDataType() == schemapb.DataType_JSON {
		return diffJSON(want.([]byte), got.([]byte))
	}
	if f.GetDataType() == schemapb.DataType_SparseFloatVector {
		want, got = sortedSparse(want.([]byte)), sortedSparse(got.([]byte))
	}
	if !reflect.DeepEqual(want, got) {
		return fmt.Sprintf("got %s, want %s", show(got), show(want))
	}
	return ""
}

func diffJSON(want, got []byte) string {
	var w, g any
	if err := json.Unmarshal(want, &w); err != nil {
		return fmt.Sprintf("want is not JSON: %v", err)
	}
	if err := json.Unmarshal(got, &g); err != nil {
		return fmt.Sprintf("got %q is not JSON: %v", got, err)
	}
	if !reflect.DeepEqual(w, g) {
		return fmt.Sprintf("got JSON %s, want %s", got, want)
	}
	return ""
}

func show(v any) string {
	if v == nil {
		return "null"
	}
	if b, ok := v.([]byte); ok {
		if bytes.ContainsAny(b, "{[") {
			return string(b)
		}
		return fmt.Sprintf("%v", b)
	}
	return fmt.Sprintf("%#v", v)
}

// compareColumns checks that the rows of fds (a column per field, rows in
// any order) hold the values of fields for the rows whose pk is listed in
// the pk column. It returns how many rows it checked.
func compareColumns(t testing.TB, fields []testField, fds []*schemapb.FieldData, n int) int {
	t.Helper()
	byName := map[string]*schemapb.FieldData{}
	for _, fd := range fds {
		byName[fd.GetFieldName()] = fd
	}
	pkFD := byName["pk"]
	if pkFD == nil {
		t.Fatalf("no pk column among %d columns", len(fds))
	}
	pks := pkFD.GetScalars().GetLongData().GetData()
	if len(pks) != n {
		t.Fatalf("pk column has %d rows, want %d", len(pks), n)
	}
	errs := 0
	for _, f := range fields {
		if f.schema.GetIsFunctionOutput() {
			continue // regenerated by the server, never compared
		}
		fd := byName[f.schema.GetName()]
		if fd == nil && f.schema.GetIsDynamic() {
			for _, c := range fds {
				if c.GetIsDynamic() {
					fd = c
				}
			}
		}
		if fd == nil {
			t.Errorf("field %q: no column", f.schema.GetName())
			continue
		}
		got, err := readRows(f.schema, fd, n)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		for i, pk := range pks {
			if d := diffValue(f.schema, f.value(int(pk)), got[i]); d != "" {
				if errs++; errs <= 20 {
					t.Errorf("field %q, pk %d: %s", f.schema.GetName(), pk, d)
				}
			}
		}
	}
	if errs > 20 {
		t.Errorf("... and %d more differences", errs-20)
	}
	return len(pks)
}

// schemaOf returns the collection schema of fields.
func schemaOf(name string, fields []testField, dynamic bool) *schemapb.CollectionSchema {
	coll := &schemapb.CollectionSchema{Name: name, EnableDynamicField: dynamic}
	for _, f := range fields {
		coll.Fields = append(coll.Fields, f.schema)
	}
	return coll
}
