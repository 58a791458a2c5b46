package columnar

import (
	"errors"
	"strings"
	"testing"

	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
)

func TestArrowSchemaTypes(t *testing.T) {
	tests := []struct {
		field *schemapb.FieldSchema
		want  string
	}{
		{&schemapb.FieldSchema{DataType: schemapb.DataType_Bool}, "bool"},
		{&schemapb.FieldSchema{DataType: schemapb.DataType_Int8}, "int8"},
		{&schemapb.FieldSchema{DataType: schemapb.DataType_Int16}, "int16"},
		{&schemapb.FieldSchema{DataType: schemapb.DataType_Int32}, "int32"},
		{&schemapb.FieldSchema{DataType: schemapb.DataType_Int64}, "int64"},
		{&schemapb.FieldSchema{DataType: schemapb.DataType_Float}, "float32"},
		{&schemapb.FieldSchema{DataType: schemapb.DataType_Double}, "float64"},
		{&schemapb.FieldSchema{DataType: schemapb.DataType_VarChar}, "utf8"},
		{&schemapb.FieldSchema{DataType: schemapb.DataType_String}, "utf8"},
		{&schemapb.FieldSchema{DataType: schemapb.DataType_JSON}, "utf8"},
		{&schemapb.FieldSchema{DataType: schemapb.DataType_Array, ElementType: schemapb.DataType_Int16}, "list<item: int16, nullable>"},
		{&schemapb.FieldSchema{DataType: schemapb.DataType_Array, ElementType: schemapb.DataType_VarChar}, "list<item: utf8, nullable>"},
		{&schemapb.FieldSchema{DataType: schemapb.DataType_FloatVector}, "list<item: float32, nullable>"},
		{&schemapb.FieldSchema{DataType: schemapb.DataType_BinaryVector}, "list<item: uint8, nullable>"},
		{&schemapb.FieldSchema{DataType: schemapb.DataType_Float16Vector}, "list<item: uint8, nullable>"},
		{&schemapb.FieldSchema{DataType: schemapb.DataType_BFloat16Vector}, "list<item: uint8, nullable>"},
		{&schemapb.FieldSchema{DataType: schemapb.DataType_Int8Vector}, "list<item: int8, nullable>"},
		{&schemapb.FieldSchema{DataType: schemapb.DataType_SparseFloatVector}, "utf8"},
	}
	for _, tt := range tests {
		t.Run(tt.field.GetDataType().String()+"_"+tt.field.GetElementType().String(), func(t *testing.T) {
			tt.field.Name = "f"
			sch, err := ArrowSchema(&schemapb.CollectionSchema{Fields: []*schemapb.FieldSchema{tt.field}})
			if err != nil {
				t.Fatal(err)
			}
			f := sch.Field(0)
			if got := f.Type.String(); got != tt.want || f.Name != "f" || !f.Nullable {
				t.Errorf("got %s %s nullable=%t, want f %s nullable=true", f.Name, got, f.Nullable, tt.want)
			}
		})
	}
}

func TestArrowSchemaUnsupported(t *testing.T) {
	tests := []struct {
		name  string
		field *schemapb.FieldSchema
		want  string
	}{
		{"geometry", &schemapb.FieldSchema{Name: "g", DataType: schemapb.DataType_Geometry}, `field "g": unsupported data type Geometry`},
		{"timestamptz", &schemapb.FieldSchema{Name: "ts", DataType: schemapb.DataType_Timestamptz}, `field "ts": unsupported data type Timestamptz`},
		{"array of json", &schemapb.FieldSchema{Name: "a", DataType: schemapb.DataType_Array, ElementType: schemapb.DataType_JSON}, `field "a": unsupported data type JSON`},
		{"array of nothing", &schemapb.FieldSchema{Name: "a", DataType: schemapb.DataType_Array}, `field "a": unsupported data type None`},
		{"array of vectors", &schemapb.FieldSchema{Name: "av", DataType: schemapb.DataType_ArrayOfVector}, `field "av": unsupported data type ArrayOfVector`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ArrowSchema(&schemapb.CollectionSchema{Fields: []*schemapb.FieldSchema{tt.field}})
			var ute *UnsupportedTypeError
			if !errors.As(err, &ute) || err.Error() != tt.want {
				t.Errorf("got %v, want UnsupportedTypeError %q", err, tt.want)
			}
		})
	}
	t.Run("struct array fields", func(t *testing.T) {
		coll := &schemapb.CollectionSchema{StructArrayFields: []*schemapb.StructArrayFieldSchema{{Name: "s"}}}
		if _, err := ArrowSchema(coll); err == nil || !strings.Contains(err.Error(), `"s"`) {
			t.Errorf("got %v, want an error naming s", err)
		}
	})
}

func TestStoredFields(t *testing.T) {
	pk := &schemapb.FieldSchema{Name: "pk", DataType: schemapb.DataType_Int64, IsPrimaryKey: true}
	text := &schemapb.FieldSchema{Name: "text", DataType: schemapb.DataType_VarChar}
	bm25 := &schemapb.FieldSchema{Name: "sparse", DataType: schemapb.DataType_SparseFloatVector, IsFunctionOutput: true}
	vec := &schemapb.FieldSchema{Name: "vec", DataType: schemapb.DataType_FloatVector}
	meta := &schemapb.FieldSchema{Name: DynamicFieldName, DataType: schemapb.DataType_JSON, IsDynamic: true}
	tests := []struct {
		name string
		coll *schemapb.CollectionSchema
		want string
	}{
		{"function output left out", &schemapb.CollectionSchema{Fields: []*schemapb.FieldSchema{pk, text, bm25, vec}}, "pk,text,vec"},
		{"dynamic added", &schemapb.CollectionSchema{EnableDynamicField: true, Fields: []*schemapb.FieldSchema{pk, vec}}, "pk,vec,$meta"},
		{"dynamic kept in place", &schemapb.CollectionSchema{EnableDynamicField: true, Fields: []*schemapb.FieldSchema{pk, meta, vec}}, "pk,$meta,vec"},
		{"empty", &schemapb.CollectionSchema{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var names []string
			for _, f := range StoredFields(tt.coll) {
				names = append(names, f.GetName())
			}
			if got := strings.Join(names, ","); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			sch, err := ArrowSchema(tt.coll)
			if err != nil {
				t.Fatal(err)
			}
			for i, name := range names {
				if sch.Field(i).Name != name {
					t.Errorf("column %d is %q, want %q", i, sch.Field(i).Name, name)
				}
			}
		})
	}
}

func TestCheckSchema(t *testing.T) {
	base := []testField{pkField(), vectorFields()[0], scalarFields()[7]}
	want, err := ArrowSchema(schemaOf("c", base, false))
	if err != nil {
		t.Fatal(err)
	}
	retyped := []testField{pkField(), vectorFields()[1], scalarFields()[7]}
	retyped[1].schema = &schemapb.FieldSchema{Name: "v_float", DataType: schemapb.DataType_BinaryVector}
	tests := []struct {
		name   string
		fields []testField
		want   string
	}{
		{"same", base, ""},
		{"missing", base[:2], `column "f_varchar": missing`},
		{"extra", append(append([]testField{}, base...), scalarFields()[0]), `column "f_bool": not a stored field of the collection`},
		{"renamed", []testField{pkField(), base[2], base[1]}, `column "v_float": found column "f_varchar" in its place`},
		{"retyped", retyped, `column "v_float": type list<item: uint8, nullable>, want list<item: float32, nullable>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ArrowSchema(schemaOf("c", tt.fields, false))
			if err != nil {
				t.Fatal(err)
			}
			err = checkSchema(want, got)
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || err.Error() != tt.want) {
				t.Errorf("got %v, want %q", err, tt.want)
			}
		})
	}
}
