package columnar

import (
	"fmt"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
)

// DynamicFieldName is the name Milvus gives the hidden JSON field that holds
// the keys of a collection with the dynamic field enabled.
const DynamicFieldName = "$meta"

// listItemName is the element field name of every list column, as Milvus bulk
// import expects it.
const listItemName = "item"

// UnsupportedTypeError reports a field whose data type has no backup layout.
type UnsupportedTypeError struct {
	Field string
	Type  schemapb.DataType
}

// Error names the field and its type.
func (e *UnsupportedTypeError) Error() string {
	return fmt.Sprintf("field %q: unsupported data type %s", e.Field, e.Type)
}

// ArrowSchema returns the Arrow schema of the backup files of coll: one
// nullable column per stored field, named as the field, in schema order. It
// returns an *UnsupportedTypeError for a field whose type has no layout.
func ArrowSchema(coll *schemapb.CollectionSchema) (*arrow.Schema, error) {
	if len(coll.GetStructArrayFields()) > 0 {
		name := coll.GetStructArrayFields()[0].GetName()
		return nil, &UnsupportedTypeError{Field: name, Type: schemapb.DataType_ArrayOfStruct}
	}
	stored := StoredFields(coll)
	fields := make([]arrow.Field, 0, len(stored))
	for _, f := range stored {
		typ, err := arrowType(f)
		if err != nil {
			return nil, err
		}
		fields = append(fields, arrow.Field{Name: f.GetName(), Type: typ, Nullable: true})
	}
	return arrow.NewSchema(fields, nil), nil
}

// StoredFields returns the fields of coll that backup files hold, in column
// order. Function outputs are left out because the server regenerates them.
// A collection with the dynamic field enabled always gets a $meta field, even
// when coll (a schema as written by a user rather than as described by the
// server) does not list it.
func StoredFields(coll *schemapb.CollectionSchema) []*schemapb.FieldSchema {
	out := make([]*schemapb.FieldSchema, 0, len(coll.GetFields())+1)
	hasDynamic := false
	for _, f := range coll.GetFields() {
		if f.GetIsFunctionOutput() {
			continue
		}
		hasDynamic = hasDynamic || f.GetIsDynamic()
		out = append(out, f)
	}
	if coll.GetEnableDynamicField() && !hasDynamic {
		out = append(out, &schemapb.FieldSchema{
			Name:      DynamicFieldName,
			DataType:  schemapb.DataType_JSON,
			IsDynamic: true,
		})
	}
	return out
}

// arrowType returns the column type of one field.
func arrowType(f *schemapb.FieldSchema) (arrow.DataType, error) {
	switch f.GetDataType() {
	case schemapb.DataType_Array:
		elem, err := scalarArrowType(f.GetElementType())
		if err != nil || f.GetElementType() == schemapb.DataType_JSON {
			return nil, &UnsupportedTypeError{Field: f.GetName(), Type: f.GetElementType()}
		}
		return listOf(elem), nil
	case schemapb.DataType_FloatVector:
		return listOf(arrow.PrimitiveTypes.Float32), nil
	case schemapb.DataType_BinaryVector, schemapb.DataType_Float16Vector, schemapb.DataType_BFloat16Vector:
		return listOf(arrow.PrimitiveTypes.Uint8), nil
	case schemapb.DataType_Int8Vector:
		return listOf(arrow.PrimitiveTypes.Int8), nil
	case schemapb.DataType_SparseFloatVector:
		return arrow.BinaryTypes.String, nil
	}
	typ, err := scalarArrowType(f.GetDataType())
	if err != nil {
		return nil, &UnsupportedTypeError{Field: f.GetName(), Type: f.GetDataType()}
	}
	return typ, nil
}

// scalarArrowType returns the Arrow type of a scalar Milvus type, which is
// also the element type of an array of it.
func scalarArrowType(dt schemapb.DataType) (arrow.DataType, error) {
	switch dt {
	case schemapb.DataType_Bool:
		return arrow.FixedWidthTypes.Boolean, nil
	case schemapb.DataType_Int8:
		return arrow.PrimitiveTypes.Int8, nil
	case schemapb.DataType_Int16:
		return arrow.PrimitiveTypes.Int16, nil
	case schemapb.DataType_Int32:
		return arrow.PrimitiveTypes.Int32, nil
	case schemapb.DataType_Int64:
		return arrow.PrimitiveTypes.Int64, nil
	case schemapb.DataType_Float:
		return arrow.PrimitiveTypes.Float32, nil
	case schemapb.DataType_Double:
		return arrow.PrimitiveTypes.Float64, nil
	case schemapb.DataType_VarChar, schemapb.DataType_String, schemapb.DataType_JSON:
		return arrow.BinaryTypes.String, nil
	}
	return nil, fmt.Errorf("unsupported data type %s", dt)
}

// listOf returns a list type whose nullable element field is named "item".
func listOf(elem arrow.DataType) *arrow.ListType {
	return arrow.ListOfField(arrow.Field{Name: listItemName, Type: elem, Nullable: true})
}

// vectorDim returns the dim type parameter of a dense vector field.
func vectorDim(f *schemapb.FieldSchema) (int, error) {
	for _, kv := range f.GetTypeParams() {
		if kv.GetKey() != "dim" {
			continue
		}
		dim, err := strconv.Atoi(kv.GetValue())
		if err != nil || dim <= 0 {
			return 0, fmt.Errorf("field %q: invalid dim %q", f.GetName(), kv.GetValue())
		}
		return dim, nil
	}
	return 0, fmt.Errorf("field %q: vector field has no dim", f.GetName())
}

// vectorRowWidth returns how many wire values one row of a dense vector
// field holds: dim floats, dim/8 bytes of a binary vector, 2*dim bytes of a
// half-precision vector or dim bytes of an int8 vector.
func vectorRowWidth(f *schemapb.FieldSchema) (int, error) {
	dim, err := vectorDim(f)
	if err != nil {
		return 0, err
	}
	switch f.GetDataType() {
	case schemapb.DataType_BinaryVector:
		if dim%8 != 0 {
			return 0, fmt.Errorf("field %q: binary vector dim %d is not a multiple of 8", f.GetName(), dim)
		}
		return dim / 8, nil
	case schemapb.DataType_Float16Vector, schemapb.DataType_BFloat16Vector:
		return 2 * dim, nil
	}
	return dim, nil
}

// SchemaMismatchError reports the first column where a file or record
// differs from the layout of its collection.
type SchemaMismatchError struct {
	Column string // the column name expected, or found when there are extra columns
	Reason string
}

// Error names the column and says how it differs.
func (e *SchemaMismatchError) Error() string {
	return fmt.Sprintf("column %q: %s", e.Column, e.Reason)
}

// checkSchema compares got with want column by column. Column nullability,
// field metadata and list element names are not compared: Parquet readers
// set them their own way.
func checkSchema(want, got *arrow.Schema) error {
	for i, w := range want.Fields() {
		if i >= got.NumFields() {
			return &SchemaMismatchError{Column: w.Name, Reason: "missing"}
		}
		g := got.Field(i)
		if g.Name != w.Name {
			return &SchemaMismatchError{Column: w.Name, Reason: fmt.Sprintf("found column %q in its place", g.Name)}
		}
		if !arrow.TypeEqual(w.Type, g.Type) {
			return &SchemaMismatchError{Column: w.Name, Reason: fmt.Sprintf("type %s, want %s", g.Type, w.Type)}
		}
	}
	if got.NumFields() > want.NumFields() {
		return &SchemaMismatchError{Column: got.Field(want.NumFields()).Name, Reason: "not a stored field of the collection"}
	}
	return nil
}
