package testenv

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/milvault/milvault/milvus"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/local"
)

// RequireCapabilities reads the capabilities of the server c is connected
// to and returns them, or skips t with "SERVER has no WHAT" when has says
// the server lacks the feature the test needs, e.g.
//
//	testenv.RequireCapabilities(t, c, "sparse vectors", func(caps milvus.Capabilities) bool {
//		return caps.DataTypes[schemapb.DataType_SparseFloatVector]
//	})
func RequireCapabilities(t testing.TB, c *milvus.Client, what string, has func(milvus.Capabilities) bool) milvus.Capabilities {
	t.Helper()
	caps, err := c.Capabilities(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !has(caps) {
		t.Skipf("%s has no %s", caps.Server, what)
	}
	return caps
}

// LocalRepo returns a new repository in a local folder under t.TempDir().
func LocalRepo(t testing.TB) *repo.Repository {
	t.Helper()
	s, err := local.New(filepath.Join(t.TempDir(), "repo"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := repo.OpenOrInit(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
