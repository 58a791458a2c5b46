package milvus

import (
	"testing"

	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
)

func TestMilvusCapabilitiesByVersion(t *testing.T) {
	for _, tc := range []struct {
		version                      string
		array, sparse, nullable, dbs bool
	}{
		{"v2.2.16-lite", false, false, false, true},
		{"v2.2.8", false, false, false, false},
		{"v2.3.5-lite", true, false, false, true},
		{"v2.4.1", true, true, false, true},
		{"2.5.0-rc1", true, true, true, true},
	} {
		ma, mi, pa, ok := parseVersion(tc.version)
		if !ok {
			t.Fatalf("parseVersion(%q) failed", tc.version)
		}
		c := milvusCapabilities(tc.version, ma, mi, pa)
		got := [4]bool{c.DataTypes[schemapb.DataType_Array], c.DataTypes[schemapb.DataType_SparseFloatVector], c.Nullable, c.Databases}
		if want := [4]bool{tc.array, tc.sparse, tc.nullable, tc.dbs}; got != want {
			t.Errorf("%s: array, sparse, nullable, databases = %v, want %v", tc.version, got, want)
		}
	}
	if _, _, _, ok := parseVersion("milvus_lite"); ok {
		t.Error("parseVersion accepted a version without numbers")
	}
}
