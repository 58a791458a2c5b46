package importer

import (
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
)

func TestNewPlan(t *testing.T) {
	target := &schemapb.CollectionSchema{Name: "c", EnableDynamicField: true, Fields: []*schemapb.FieldSchema{
		{Name: "id", DataType: schemapb.DataType_Int64, IsPrimaryKey: true, AutoID: true},
		{Name: "vec", DataType: schemapb.DataType_FloatVector, TypeParams: []*commonpb.KeyValuePair{{Key: "dim", Value: "2"}}},
		{Name: "name", DataType: schemapb.DataType_VarChar, Nullable: true},
	}}
	vec := arrow.ListOfField(arrow.Field{Name: "element", Type: arrow.PrimitiveTypes.Float32, Nullable: true})
	col := func(name string, typ arrow.DataType) arrow.Field {
		return arrow.Field{Name: name, Type: typ, Nullable: true}
	}
	for _, tc := range []struct {
		name     string
		file     []arrow.Field
		fill     string // the fills of the insert columns, joined
		skipped  bool
		problems []string
	}{
		{"all columns, keys for the auto_id key", []arrow.Field{col("id", arrow.PrimitiveTypes.Int64), col("vec", vec), col("name", arrow.BinaryTypes.String), col("$meta", arrow.BinaryTypes.String)},
			",,", true, nil},
		{"nullable and dynamic columns missing", []arrow.Field{col("vec", vec)}, ",null,{}", false, nil},
		{"wrong type, unknown column, missing vector", []arrow.Field{col("name", arrow.PrimitiveTypes.Int32), col("extra", arrow.BinaryTypes.String)}, "",
			false, []string{`no column for field "vec"`, `column "extra" is not a field`, `column "name" is int32, the field needs utf8`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, problems := newPlan(target, arrow.NewSchema(tc.file, nil))
			if got := strings.Join(problems, "; "); len(tc.problems) == 0 && got != "" {
				t.Fatalf("problems: %s", got)
			}
			for _, want := range tc.problems {
				if !strings.Contains(strings.Join(problems, "; "), want) {
					t.Errorf("problems %q do not mention %q", problems, want)
				}
			}
			if len(tc.problems) > 0 {
				return
			}
			if got := strings.Join(p.fill, ","); got != tc.fill || p.skippedKey != tc.skipped {
				t.Errorf("fill %q, skipped key %v; want %q, %v", got, p.skippedKey, tc.fill, tc.skipped)
			}
		})
	}
}
