package testbackup

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/local"
)

// Local writes a small backup (two partitions, two files of 500 rows each)
// into a new local repository in t's temporary directory and returns the
// repository's bare store, for tests that reopen it through wrappers, and
// the backup's manifest.
func Local(t testing.TB) (*local.Store, *manifest.Manifest) {
	t.Helper()
	ctx := context.Background()
	l, err := local.New(filepath.Join(t.TempDir(), "repo"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := repo.OpenOrInit(ctx, l)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Write(ctx, r, "20260101T000000Z-abcdef", "wrapped", []string{"_default", "p1"}, 2, 500, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return l, m
}
