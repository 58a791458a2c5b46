package columnar

import (
	"fmt"
	"math"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
)

// column is one stored field and the builder of its Arrow column.
type column struct {
	field *schemapb.FieldSchema
	width int // wire values per row of a dense vector
	b     array.Builder
}

// valuesBuilder is the part of Arrow's typed builders that bulk appends use.
type valuesBuilder[T any] interface {
	AppendValues(v []T, valid []bool)
	Append(v T)
	AppendNull()
	Reserve(n int)
}

// prepare checks fd against the field and returns a function that appends
// its rows. Checking everything before appending anything keeps a failed
// Append from leaving columns of different lengths.
func (c *column) prepare(fd *schemapb.FieldData, rows int, scratch *[]byte) (func(), error) {
	if err := checkType(c.field, fd); err != nil {
		return nil, err
	}
	switch dt := c.field.GetDataType(); {
	case isDenseVector(dt):
		return c.prepareVector(fd, rows)
	case dt == schemapb.DataType_SparseFloatVector:
		return c.prepareSparse(fd, rows, scratch)
	case dt == schemapb.DataType_Array:
		return c.prepareArray(fd, rows)
	}
	return c.prepareScalar(fd, rows)
}

// checkType checks that fd carries the data type of f.
func checkType(f *schemapb.FieldSchema, fd *schemapb.FieldData) error {
	got, want := fd.GetType(), f.GetDataType()
	if got == want || isString(got) && isString(want) {
		return nil
	}
	return fmt.Errorf("has data type %s, want %s", got, want)
}

// isString reports whether dt is one of the two string types.
func isString(dt schemapb.DataType) bool {
	return dt == schemapb.DataType_VarChar || dt == schemapb.DataType_String
}

// prepareScalar handles every type that maps to a flat Arrow column.
func (c *column) prepareScalar(fd *schemapb.FieldData, rows int) (func(), error) {
	s := fd.GetScalars()
	switch c.field.GetDataType() {
	case schemapb.DataType_Bool:
		return putScalars(c, fd, rows, s.GetBoolData().GetData(), c.b.(*array.BooleanBuilder))
	case schemapb.DataType_Int8:
		return putNarrowInts(c, fd, rows, c.b.(*array.Int8Builder), math.MinInt8, math.MaxInt8)
	case schemapb.DataType_Int16:
		return putNarrowInts(c, fd, rows, c.b.(*array.Int16Builder), math.MinInt16, math.MaxInt16)
	case schemapb.DataType_Int32:
		return putScalars(c, fd, rows, s.GetIntData().GetData(), c.b.(*array.Int32Builder))
	case schemapb.DataType_Int64:
		return putScalars(c, fd, rows, s.GetLongData().GetData(), c.b.(*array.Int64Builder))
	case schemapb.DataType_Float:
		return putScalars(c, fd, rows, s.GetFloatData().GetData(), c.b.(*array.Float32Builder))
	case schemapb.DataType_Double:
		return putScalars(c, fd, rows, s.GetDoubleData().GetData(), c.b.(*array.Float64Builder))
	case schemapb.DataType_VarChar, schemapb.DataType_String:
		return putScalars(c, fd, rows, s.GetStringData().GetData(), c.b.(*array.StringBuilder))
	case schemapb.DataType_JSON:
		return putScalars(c, fd, rows, s.GetJsonData().GetData(), c.b.(*array.StringBuilder).BinaryBuilder)
	}
	return nil, &UnsupportedTypeError{Field: c.field.GetName(), Type: c.field.GetDataType()}
}

// putScalars prepares values, whose Arrow type matches the wire type, for b.
func putScalars[T any](c *column, fd *schemapb.FieldData, rows int, values []T, b valuesBuilder[T]) (func(), error) {
	l, err := layoutOf(c.field, fd, rows, len(values))
	if err != nil {
		return nil, err
	}
	return func() { appendLayout(b, values, l) }, nil
}

// appendLayout appends values to b in bulk where the layout allows it.
func appendLayout[T any](b valuesBuilder[T], values []T, l rowLayout) {
	if !l.compact {
		b.AppendValues(values, l.valid)
		return
	}
	b.Reserve(l.rows)
	l.each(b.AppendNull, func(j int) { b.Append(values[j]) })
}

// putNarrowInts prepares Int8 and Int16 values, which travel as int32.
func putNarrowInts[T int8 | int16](c *column, fd *schemapb.FieldData, rows int, b valuesBuilder[T], lo, hi int32) (func(), error) {
	values := fd.GetScalars().GetIntData().GetData()
	l, err := layoutOf(c.field, fd, rows, len(values))
	if err != nil {
		return nil, err
	}
	if err := checkRange(values, lo, hi); err != nil {
		return nil, err
	}
	return func() {
		b.Reserve(rows)
		l.each(b.AppendNull, func(j int) { b.Append(T(values[j])) })
	}, nil
}

// checkRange checks that every value fits in [lo, hi].
func checkRange(values []int32, lo, hi int32) error {
	for i, v := range values {
		if v < lo || v > hi {
			return fmt.Errorf("value %d at %d is out of range [%d, %d]", v, i, lo, hi)
		}
	}
	return nil
}

// prepareVector handles the dense vector types, whose rows are fixed-size
// runs of one flat wire buffer.
func (c *column) prepareVector(fd *schemapb.FieldData, rows int) (func(), error) {
	v := fd.GetVectors()
	if dim, _ := vectorDim(c.field); v.GetDim() != 0 && int(v.GetDim()) != dim {
		return nil, fmt.Errorf("has dim %d, want %d", v.GetDim(), dim)
	}
	lb := c.b.(*array.ListBuilder)
	switch c.field.GetDataType() {
	case schemapb.DataType_FloatVector:
		values := v.GetFloatVector().GetData()
		vb := lb.ValueBuilder().(*array.Float32Builder)
		return c.putRuns(fd, rows, len(values), func(lo, hi int) { vb.AppendValues(values[lo:hi], nil) })
	case schemapb.DataType_Int8Vector:
		values := v.GetInt8Vector()
		vb := lb.ValueBuilder().(*array.Int8Builder)
		return c.putRuns(fd, rows, len(values), func(lo, hi int) {
			for _, x := range values[lo:hi] {
				vb.UnsafeAppend(int8(x))
			}
		})
	}
	values := vectorBytes(v)
	vb := lb.ValueBuilder().(*array.Uint8Builder)
	return c.putRuns(fd, rows, len(values), func(lo, hi int) { vb.AppendValues(values[lo:hi], nil) })
}

// vectorBytes returns the wire buffer of a byte-encoded vector.
func vectorBytes(v *schemapb.VectorField) []byte {
	switch d := v.GetData().(type) {
	case *schemapb.VectorField_BinaryVector:
		return d.BinaryVector
	case *schemapb.VectorField_Float16Vector:
		return d.Float16Vector
	case *schemapb.VectorField_Bfloat16Vector:
		return d.Bfloat16Vector
	}
	return nil
}

// putRuns prepares a flat buffer of n values, c.width per row, for the
// list column; put appends the values [lo, hi) to the list's value builder.
func (c *column) putRuns(fd *schemapb.FieldData, rows, n int, put func(lo, hi int)) (func(), error) {
	if n%c.width != 0 {
		return nil, fmt.Errorf("has %d values, not a multiple of the row width %d", n, c.width)
	}
	l, err := layoutOf(c.field, fd, rows, n/c.width)
	if err != nil {
		return nil, err
	}
	lb := c.b.(*array.ListBuilder)
	return func() {
		lb.Reserve(rows)
		lb.ValueBuilder().Reserve(n)
		l.each(lb.AppendNull, func(j int) {
			lb.Append(true)
			put(j*c.width, (j+1)*c.width)
		})
	}, nil
}
