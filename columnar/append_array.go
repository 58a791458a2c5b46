package columnar

import (
	"fmt"
	"math"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
)

// prepareArray handles Array fields: one ScalarField per row, appended as
// one list.
func (c *column) prepareArray(fd *schemapb.FieldData, rows int) (func(), error) {
	ad := fd.GetScalars().GetArrayData()
	elem := c.field.GetElementType()
	if got := ad.GetElementType(); got != schemapb.DataType_None && got != elem && !(isString(got) && isString(elem)) {
		return nil, fmt.Errorf("has element type %s, want %s", got, elem)
	}
	l, err := layoutOf(c.field, fd, rows, len(ad.GetData()))
	if err != nil {
		return nil, err
	}
	for i, sf := range ad.GetData() {
		if err := checkElements(elem, sf); err != nil {
			return nil, fmt.Errorf("array %d: %w", i, err)
		}
	}
	lb := c.b.(*array.ListBuilder)
	put := elementAppender(elem, lb.ValueBuilder())
	return func() {
		lb.Reserve(rows)
		l.each(lb.AppendNull, func(j int) {
			lb.Append(true)
			put(ad.GetData()[j])
		})
	}, nil
}

// checkElements checks that sf holds elements of type elem, or nothing.
func checkElements(elem schemapb.DataType, sf *schemapb.ScalarField) error {
	if sf.GetData() == nil {
		return nil
	}
	ok := false
	switch elem {
	case schemapb.DataType_Bool:
		ok = sf.GetBoolData() != nil
	case schemapb.DataType_Int8:
		ok = sf.GetIntData() != nil && checkRange(sf.GetIntData().GetData(), math.MinInt8, math.MaxInt8) == nil
	case schemapb.DataType_Int16:
		ok = sf.GetIntData() != nil && checkRange(sf.GetIntData().GetData(), math.MinInt16, math.MaxInt16) == nil
	case schemapb.DataType_Int32:
		ok = sf.GetIntData() != nil
	case schemapb.DataType_Int64:
		ok = sf.GetLongData() != nil
	case schemapb.DataType_Float:
		ok = sf.GetFloatData() != nil
	case schemapb.DataType_Double:
		ok = sf.GetDoubleData() != nil
	case schemapb.DataType_VarChar, schemapb.DataType_String:
		ok = sf.GetStringData() != nil
	}
	if !ok {
		return fmt.Errorf("elements %T do not fit element type %s", sf.GetData(), elem)
	}
	return nil
}

// elementAppender returns a function that appends the elements of one row
// to vb, the value builder of an array column with element type elem.
func elementAppender(elem schemapb.DataType, vb array.Builder) func(*schemapb.ScalarField) {
	switch elem {
	case schemapb.DataType_Bool:
		b := vb.(*array.BooleanBuilder)
		return func(sf *schemapb.ScalarField) { b.AppendValues(sf.GetBoolData().GetData(), nil) }
	case schemapb.DataType_Int8:
		b := vb.(*array.Int8Builder)
		return func(sf *schemapb.ScalarField) { appendNarrow(b, sf.GetIntData().GetData()) }
	case schemapb.DataType_Int16:
		b := vb.(*array.Int16Builder)
		return func(sf *schemapb.ScalarField) { appendNarrow(b, sf.GetIntData().GetData()) }
	case schemapb.DataType_Int32:
		b := vb.(*array.Int32Builder)
		return func(sf *schemapb.ScalarField) { b.AppendValues(sf.GetIntData().GetData(), nil) }
	case schemapb.DataType_Int64:
		b := vb.(*array.Int64Builder)
		return func(sf *schemapb.ScalarField) { b.AppendValues(sf.GetLongData().GetData(), nil) }
	case schemapb.DataType_Float:
		b := vb.(*array.Float32Builder)
		return func(sf *schemapb.ScalarField) { b.AppendValues(sf.GetFloatData().GetData(), nil) }
	case schemapb.DataType_Double:
		b := vb.(*array.Float64Builder)
		return func(sf *schemapb.ScalarField) { b.AppendValues(sf.GetDoubleData().GetData(), nil) }
	}
	b := vb.(*array.StringBuilder)
	return func(sf *schemapb.ScalarField) { b.AppendValues(sf.GetStringData().GetData(), nil) }
}

// appendNarrow appends int32 wire values to an Int8 or Int16 builder.
func appendNarrow[T int8 | int16](b valuesBuilder[T], values []int32) {
	b.Reserve(len(values))
	for _, v := range values {
		b.Append(T(v))
	}
}
