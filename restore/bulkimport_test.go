package restore

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
)

func TestImportBlocker(t *testing.T) {
	pk := func(auto bool) *schemapb.FieldSchema {
		return &schemapb.FieldSchema{Name: "id", DataType: schemapb.DataType_Int64, IsPrimaryKey: true, AutoID: auto}
	}
	vec := &schemapb.FieldSchema{Name: "v", DataType: schemapb.DataType_FloatVector}
	tests := []struct {
		name   string
		fields []*schemapb.FieldSchema
		want   string // substring of the reason; "" means importable
	}{
		{"plain", []*schemapb.FieldSchema{pk(false), vec}, ""},
		{"scalars, json, arrays, binary vector", []*schemapb.FieldSchema{pk(false), vec,
			{Name: "s", DataType: schemapb.DataType_VarChar}, {Name: "j", DataType: schemapb.DataType_JSON},
			{Name: "a", DataType: schemapb.DataType_Array, ElementType: schemapb.DataType_VarChar},
			{Name: "b", DataType: schemapb.DataType_BinaryVector}, {Name: "$meta", DataType: schemapb.DataType_JSON, IsDynamic: true}}, ""},
		{"auto_id kept", []*schemapb.FieldSchema{pk(true), vec}, `primary key "id" is auto_id`},
		{"nullable", []*schemapb.FieldSchema{pk(false), vec, {Name: "n", DataType: schemapb.DataType_Int32, Nullable: true}}, `field "n" is nullable`},
		{"sparse", []*schemapb.FieldSchema{pk(false), {Name: "sp", DataType: schemapb.DataType_SparseFloatVector}}, `field "sp" has type SparseFloatVector`},
		{"float16", []*schemapb.FieldSchema{pk(false), {Name: "h", DataType: schemapb.DataType_Float16Vector}}, "Float16Vector"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := importBlocker(&schemapb.CollectionSchema{Fields: tt.fields})
			if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
				t.Errorf("importBlocker = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestServerDir(t *testing.T) {
	dir := t.TempDir()
	stage := filepath.Join(dir, "milvault-import-123")
	got, err := serverDir(Params{BulkImportDir: dir}, stage)
	if err != nil || got != filepath.ToSlash(stage) {
		t.Errorf("same path: got %q, %v; want %q", got, err, stage)
	}
	got, err = serverDir(Params{BulkImportDir: dir, BulkImportServerPath: "/var/lib/milvus/import/"}, stage)
	if err != nil || got != "/var/lib/milvus/import/milvault-import-123" {
		t.Errorf("mapped path: got %q, %v", got, err)
	}
}

func TestCheckBulkImportDir(t *testing.T) {
	dir := t.TempDir()
	if err := CheckBulkImportDir(dir); err != nil {
		t.Errorf("existing directory: %v", err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("the check left %v behind", left)
	}
	if err := CheckBulkImportDir(filepath.Join(dir, "missing")); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing directory: %v", err)
	}
	file := filepath.Join(dir, "f")
	os.WriteFile(file, nil, 0o644)
	if err := CheckBulkImportDir(file); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("file: %v", err)
	}
}
