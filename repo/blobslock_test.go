package repo_test

import (
	"context"
	"testing"
	"time"

	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/mem"
)

// TestBlobsUnderObjectLock: segment files are stored under the
// repository's retention (the memory store refuses to remove them early);
// a file whose retention has ended is stored again when a new backup
// shares it; and removing a backup never stops half-way on an
// unreferenced file that is still retained (an interrupted run's): it is
// kept, counted, and removed by a later run.
func TestBlobsUnderObjectLock(t *testing.T) {
	ctx := context.Background()
	s := mem.New()
	r, err := repo.InitWith(ctx, s, repo.InitOptions{ObjectLock: &repo.ObjectLock{Mode: repo.LockGovernance, RetentionSeconds: 1}})
	if err != nil {
		t.Fatal(err)
	}
	old, _ := putBlob(t, r, "old segment")
	shared, _ := putBlob(t, r, "shared segment")
	if err := s.Delete(ctx, old.Path); err == nil {
		t.Fatal("a segment file was stored without retention")
	}
	time.Sleep(1100 * time.Millisecond)
	again, stored := putBlob(t, r, "shared segment")
	if stored || again != shared {
		t.Fatalf("sharing a stored file: %+v stored %v, want %+v not stored", again, stored, shared)
	}
	if err := s.Delete(ctx, shared.Path); err == nil {
		t.Fatal("a shared file whose retention had ended was not stored again under a new one")
	}
	if err := r.Commit(ctx, nativeManifest("b1", shared)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2100 * time.Millisecond) // DeletableAt rounds up to whole seconds
	leftover, _ := putBlob(t, r, "an interrupted run's segment")
	if err := r.Delete(ctx, nil, "b1"); err != nil {
		t.Fatalf("Delete with a retained unreferenced file: %v", err)
	}
	for _, f := range []string{old.Path, shared.Path} {
		if _, err := s.Stat(ctx, f); err == nil {
			t.Errorf("%s (unreferenced, retention ended) was not collected", f)
		}
	}
	if _, err := s.Stat(ctx, leftover.Path); err != nil {
		t.Fatalf("the retained leftover was removed: %v", err)
	}
	l, _, err := r.Lock(ctx, repo.LockOptions{Exclusive: true, Operation: "test"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Unlock()
	got, err := r.CollectBlobs(ctx, l)
	if err != nil || got.Files != 0 || got.Kept != 1 || got.KeptBytes != leftover.Size {
		t.Fatalf("CollectBlobs = %+v, %v; want the leftover kept and counted", got, err)
	}
}
