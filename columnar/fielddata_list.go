package columnar

import (
	"errors"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
)

var errNullElement = errors.New("list elements must not be null")

// denseVectorField converts a list column of a dense vector field into one
// flat wire buffer.
func denseVectorField(f *schemapb.FieldSchema, list *array.List, valid []bool) (*schemapb.FieldData_Vectors, error) {
	dim, err := vectorDim(f)
	if err != nil {
		return nil, err
	}
	width, err := vectorRowWidth(f)
	if err != nil {
		return nil, err
	}
	if err := checkRunWidths(list, valid, width); err != nil {
		return nil, err
	}
	vf := &schemapb.VectorField{Dim: int64(dim)}
	child := list.ListValues()
	switch f.GetDataType() {
	case schemapb.DataType_FloatVector:
		data := flatten(list, valid, child.(*array.Float32).Float32Values())
		vf.Data = &schemapb.VectorField_FloatVector{FloatVector: &schemapb.FloatArray{Data: data}}
	case schemapb.DataType_BinaryVector:
		vf.Data = &schemapb.VectorField_BinaryVector{BinaryVector: flatten(list, valid, child.(*array.Uint8).Uint8Values())}
	case schemapb.DataType_Float16Vector:
		vf.Data = &schemapb.VectorField_Float16Vector{Float16Vector: flatten(list, valid, child.(*array.Uint8).Uint8Values())}
	case schemapb.DataType_BFloat16Vector:
		vf.Data = &schemapb.VectorField_Bfloat16Vector{Bfloat16Vector: flatten(list, valid, child.(*array.Uint8).Uint8Values())}
	case schemapb.DataType_Int8Vector:
		signed := flatten(list, valid, child.(*array.Int8).Int8Values())
		data := make([]byte, len(signed))
		for i, v := range signed {
			data[i] = byte(v)
		}
		vf.Data = &schemapb.VectorField_Int8Vector{Int8Vector: data}
	}
	return &schemapb.FieldData_Vectors{Vectors: vf}, nil
}

// checkRunWidths checks that every valid row of list holds width non-null
// values.
func checkRunWidths(list *array.List, valid []bool, width int) error {
	if list.ListValues().NullN() > 0 {
		return errNullElement
	}
	for i := 0; i < list.Len(); i++ {
		if valid != nil && !valid[i] {
			continue
		}
		if start, end := list.ValueOffsets(i); end-start != int64(width) {
			return fmt.Errorf("row %d has %d values, want %d", i, end-start, width)
		}
	}
	return nil
}

// flatten copies the values of the valid rows of list, whose child values
// are values, into one buffer.
func flatten[T any](list *array.List, valid []bool, values []T) []T {
	n := list.Len()
	if n == 0 {
		return []T{}
	}
	first, _ := list.ValueOffsets(0)
	_, last := list.ValueOffsets(n - 1)
	out := make([]T, 0, last-first)
	for i := 0; i < list.Len(); i++ {
		if valid == nil || valid[i] {
			start, end := list.ValueOffsets(i)
			out = append(out, values[start:end]...)
		}
	}
	return out
}

// sparseVectorField parses the JSON text of a sparse vector column into
// wire rows. All rows share one buffer.
func sparseVectorField(arr *array.String, valid []bool) (*schemapb.FieldData_Vectors, error) {
	var buf []byte
	var dim int64
	ends := make([]int, 0, arr.Len())
	for i := 0; i < arr.Len(); i++ {
		if valid != nil && !valid[i] {
			continue
		}
		var d int64
		var err error
		if buf, d, err = appendSparseRow(buf, arr.Value(i)); err != nil {
			return nil, fmt.Errorf("row %d: %w", i, err)
		}
		dim = max(dim, d)
		ends = append(ends, len(buf))
	}
	contents := make([][]byte, len(ends))
	start := 0
	for k, end := range ends {
		contents[k] = buf[start:end:end]
		start = end
	}
	sv := &schemapb.SparseFloatArray{Dim: dim, Contents: contents}
	vf := &schemapb.VectorField{Dim: dim, Data: &schemapb.VectorField_SparseFloatVector{SparseFloatVector: sv}}
	return &schemapb.FieldData_Vectors{Vectors: vf}, nil
}

// arrayField converts a list column of an Array field into one ScalarField
// per valid row.
func arrayField(f *schemapb.FieldSchema, list *array.List, valid []bool) (*schemapb.FieldData_Scalars, error) {
	if list.ListValues().NullN() > 0 {
		return nil, errNullElement
	}
	elem := f.GetElementType()
	read := elementReader(elem, list.ListValues())
	data := make([]*schemapb.ScalarField, 0, list.Len())
	for i := 0; i < list.Len(); i++ {
		if valid == nil || valid[i] {
			start, end := list.ValueOffsets(i)
			data = append(data, read(int(start), int(end)))
		}
	}
	ad := &schemapb.ArrayArray{ElementType: elem, Data: data}
	sf := &schemapb.ScalarField{Data: &schemapb.ScalarField_ArrayData{ArrayData: ad}}
	return &schemapb.FieldData_Scalars{Scalars: sf}, nil
}

// elementReader returns a function that copies the elements [lo, hi) of
// child, the values of an array column with element type elem.
func elementReader(elem schemapb.DataType, child arrow.Array) func(lo, hi int) *schemapb.ScalarField {
	switch elem {
	case schemapb.DataType_Bool:
		arr := child.(*array.Boolean)
		return func(lo, hi int) *schemapb.ScalarField {
			v := make([]bool, 0, hi-lo)
			for j := lo; j < hi; j++ {
				v = append(v, arr.Value(j))
			}
			return &schemapb.ScalarField{Data: &schemapb.ScalarField_BoolData{BoolData: &schemapb.BoolArray{Data: v}}}
		}
	case schemapb.DataType_Int8:
		v := child.(*array.Int8).Int8Values()
		return func(lo, hi int) *schemapb.ScalarField {
			return &schemapb.ScalarField{Data: intData(keepWidened(v[lo:hi], nil))}
		}
	case schemapb.DataType_Int16:
		v := child.(*array.Int16).Int16Values()
		return func(lo, hi int) *schemapb.ScalarField {
			return &schemapb.ScalarField{Data: intData(keepWidened(v[lo:hi], nil))}
		}
	case schemapb.DataType_Int32:
		v := child.(*array.Int32).Int32Values()
		return func(lo, hi int) *schemapb.ScalarField {
			return &schemapb.ScalarField{Data: intData(keep(v[lo:hi], nil))}
		}
	case schemapb.DataType_Int64:
		v := child.(*array.Int64).Int64Values()
		return func(lo, hi int) *schemapb.ScalarField {
			return &schemapb.ScalarField{Data: &schemapb.ScalarField_LongData{LongData: &schemapb.LongArray{Data: keep(v[lo:hi], nil)}}}
		}
	case schemapb.DataType_Float:
		v := child.(*array.Float32).Float32Values()
		return func(lo, hi int) *schemapb.ScalarField {
			return &schemapb.ScalarField{Data: &schemapb.ScalarField_FloatData{FloatData: &schemapb.FloatArray{Data: keep(v[lo:hi], nil)}}}
		}
	case schemapb.DataType_Double:
		v := child.(*array.Float64).Float64Values()
		return func(lo, hi int) *schemapb.ScalarField {
			return &schemapb.ScalarField{Data: &schemapb.ScalarField_DoubleData{DoubleData: &schemapb.DoubleArray{Data: keep(v[lo:hi], nil)}}}
		}
	}
	v := keepStrings(child.(*array.String), nil)
	return func(lo, hi int) *schemapb.ScalarField {
		return &schemapb.ScalarField{Data: &schemapb.ScalarField_StringData{StringData: &schemapb.StringArray{Data: v[lo:hi:hi]}}}
	}
}
