package backup_test

import (
	"context"
	"strings"
	"testing"

	"github.com/milvault/milvault/backup"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/mem"
)

// TestCleanUpOnlyUnderExclusiveLock leaves an interrupted backup's data (no
// manifest, no pending marker) in a repository: while another operation
// holds a shared lock, and under a shared lock passed in, CleanUp leaves it
// alone; with the repository free it removes it.
func TestCleanUpOnlyUnderExclusiveLock(t *testing.T) {
	ctx := context.Background()
	s := mem.New()
	r, err := repo.OpenOrInit(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	const id = "20261121T232552Z-0946d0"
	leftover := "data/" + id + "/default/c/_default/part-00000.parquet"
	if err := s.Put(ctx, leftover, strings.NewReader("partial")); err != nil {
		t.Fatal(err)
	}
	still := func(when string) {
		t.Helper()
		if _, err := s.Stat(ctx, leftover); err != nil {
			t.Fatalf("%s: the leftover is gone: %v", when, err)
		}
	}
	reader, _, err := r.Lock(ctx, repo.LockOptions{Operation: "restore"})
	if err != nil {
		t.Fatal(err)
	}
	if cleaned, err := backup.CleanUp(ctx, r, nil, func(string) {}); err != nil || len(cleaned) != 0 {
		t.Fatalf("CleanUp during a restore = %v, %v; want it skipped", cleaned, err)
	}
	still("during a restore")
	if cleaned, err := backup.CleanUp(ctx, r, reader, func(string) {}); err != nil || len(cleaned) != 0 {
		t.Fatalf("CleanUp under a shared lock = %v, %v; want it skipped", cleaned, err)
	}
	still("under a shared lock")
	reader.Unlock()
	cleaned, err := backup.CleanUp(ctx, r, nil, func(string) {})
	if err != nil || len(cleaned) != 1 || cleaned[0] != id {
		t.Fatalf("CleanUp of a free repository = %v, %v; want [%s]", cleaned, err, id)
	}
	if _, err := s.Stat(ctx, leftover); err == nil {
		t.Error("the leftover is still there after the cleanup")
	}
	if locks, _ := r.Locks(ctx); len(locks) != 0 {
		t.Errorf("CleanUp left locks %v", locks)
	}
}
