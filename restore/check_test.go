package restore

import (
	"strings"
	"testing"

	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"

	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/milvus"
)

func TestGapsListEveryMissingFeatureWithItsOption(t *testing.T) {
	caps := milvus.AllCapabilities("Milvus Lite 2.x")
	caps.Databases, caps.Aliases, caps.Partitions, caps.Nullable = false, false, false, false
	caps.IndexTypes = []string{"FLAT"}
	caps.DataTypes[schemapb.DataType_Array] = false
	src := &manifest.Collection{Database: "db1", Name: "docs", Aliases: []string{"live"},
		Indexes: []manifest.Index{{Name: "v_idx", Field: "v", Params: map[string]string{"index_type": "HNSW"}}}}
	schema := &schemapb.CollectionSchema{Fields: []*schemapb.FieldSchema{
		{Name: "pk", DataType: schemapb.DataType_Int64, IsPrimaryKey: true},
		{Name: "v", DataType: schemapb.DataType_FloatVector},
		{Name: "n", DataType: schemapb.DataType_Int32, Nullable: true},
		{Name: "a", DataType: schemapb.DataType_Array, ElementType: schemapb.DataType_Int64},
	}}
	parts := []manifest.Partition{{Name: "_default"}, {Name: "p1"}}
	var got []string
	for _, g := range Gaps(caps, Params{Aliases: true}, src, schema, "db1", parts) {
		got = append(got, g.String())
	}
	want := []string{
		`db1.docs: databases (the collection goes to database "db1") (restore into the default database: --database default)`,
		`db1.docs: aliases live (restore without --aliases)`,
		`db1.docs: partitions p1`,
		`db1.docs: nullable field "n"`,
		`db1.docs: field "a" of type Array`,
		`db1.docs: index "v_idx" of type HNSW (restore without indexes: --skip-indexes)`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("gaps:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if g := Gaps(caps, Params{Database: "default", SkipIndexes: true}, src, &schemapb.CollectionSchema{}, "default", parts[:1]); len(g) != 0 {
		t.Errorf("with --database default, --skip-indexes and no aliases: gaps %v, want none", g)
	}
}
