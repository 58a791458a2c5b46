package milvus

import (
	"strconv"

	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
)

// EstimateRowBytes estimates the raw size of one row: exact for fixed-size
// fields, a guess for variable-size ones.
func EstimateRowBytes(s *schemapb.CollectionSchema) int {
	n := 0
	for _, f := range s.GetFields() {
		n += estimateFieldBytes(f)
	}
	return max(n, 1)
}

func estimateFieldBytes(f *schemapb.FieldSchema) int {
	dim := typeParam(f, "dim")
	switch f.GetDataType() {
	case schemapb.DataType_Bool, schemapb.DataType_Int8:
		return 1
	case schemapb.DataType_Int16:
		return 2
	case schemapb.DataType_Int32, schemapb.DataType_Float:
		return 4
	case schemapb.DataType_Int64, schemapb.DataType_Double:
		return 8
	case schemapb.DataType_FloatVector:
		return 4 * dim
	case schemapb.DataType_Float16Vector, schemapb.DataType_BFloat16Vector:
		return 2 * dim
	case schemapb.DataType_BinaryVector:
		return dim / 8
	case schemapb.DataType_Int8Vector:
		return dim
	case schemapb.DataType_VarChar, schemapb.DataType_String:
		return min(typeParam(f, "max_length"), 256)
	case schemapb.DataType_Array:
		return 8 * max(typeParam(f, "max_capacity"), 1)
	}
	return 256 // JSON, sparse vectors and types added later
}

func typeParam(f *schemapb.FieldSchema, key string) int {
	for _, kv := range f.GetTypeParams() {
		if kv.GetKey() == key {
			v, _ := strconv.Atoi(kv.GetValue())
			return v
		}
	}
	return 0
}
