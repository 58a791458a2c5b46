package repo_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/local"
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

// TestBlobRefreshEncryptedAndLocal: a shared file whose retention has
// ended is stored again with the same bytes in an encrypted repository
// (its ciphertext digest, which earlier manifests name, is unchanged) and
// in a local repository (whose retained files are read-only).
func TestBlobRefreshEncryptedAndLocal(t *testing.T) {
	ctx := context.Background()
	lock := &repo.ObjectLock{Mode: repo.LockGovernance, RetentionSeconds: 1}
	ms := mem.New()
	enc, err := repo.InitWith(ctx, ms, repo.InitOptions{ObjectLock: lock, Encrypt: &repo.KeySpec{Passphrase: "correct horse", ScryptWorkFactor: 10}})
	if err != nil {
		t.Fatal(err)
	}
	ls, err := local.New(filepath.Join(t.TempDir(), "repo"))
	if err != nil {
		t.Fatal(err)
	}
	loc, err := repo.InitWith(ctx, ls, repo.InitOptions{ObjectLock: lock})
	if err != nil {
		t.Fatal(err)
	}
	encFirst, _ := putBlob(t, enc, "shared segment")
	locFirst, _ := putBlob(t, loc, "shared segment")
	time.Sleep(1100 * time.Millisecond)
	before, _ := ms.Stat(ctx, encFirst.Path)
	if again, stored := putBlob(t, enc, "shared segment"); stored || again != encFirst {
		t.Fatalf("encrypted: sharing gave %+v stored %v, want %+v", again, stored, encFirst)
	}
	if after, _ := ms.Stat(ctx, encFirst.Path); !after.ModTime.After(before.ModTime) || ms.Delete(ctx, encFirst.Path) == nil {
		t.Fatal("encrypted: the shared file was not stored again under a new retention")
	}
	lb, _ := ls.Stat(ctx, locFirst.Path)
	if again, stored := putBlob(t, loc, "shared segment"); stored || again != locFirst {
		t.Fatalf("local: sharing gave %+v stored %v, want %+v", again, stored, locFirst)
	}
	if la, _ := ls.Stat(ctx, locFirst.Path); !la.ModTime.After(lb.ModTime) {
		t.Fatal("local: the shared file was not stored again under a new retention")
	}
}
