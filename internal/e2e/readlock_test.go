package e2e

import (
	"context"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/milvault/milvault/internal/fixture"
	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/local"
	"github.com/milvault/milvault/restore"
)

// gatedStore holds every read of a data file until open is closed, so a
// test decides when a restore may go on; reading signals the first such
// read. It also counts the lock files created (attempts to lock).
type gatedStore struct {
	repo.Store
	open     chan struct{}
	reading  chan struct{}
	once     sync.Once
	seen     sync.Map
	lockPuts atomic.Int32
}

func (s *gatedStore) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	if strings.HasPrefix(name, "data/") {
		s.once.Do(func() { close(s.reading) })
		select {
		case <-s.open:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return s.Store.Open(ctx, name)
}

func (s *gatedStore) Put(ctx context.Context, name string, r io.Reader) error {
	if _, dup := s.seen.LoadOrStore(name, true); !dup && strings.HasPrefix(name, "locks/") {
		s.lockPuts.Add(1)
	}
	return s.Store.Put(ctx, name, r)
}

// TestPruneAndDeleteNeverDeleteUnderARestore restores a backup while
// `milvault delete` and `milvault prune`, which would remove it, run
// against the same repository. The restore reads through a store that
// holds its data reads until the test lets them go, so the overlap does
// not depend on timing. Without --lock-wait both commands fail at once
// with exit 6 naming the restore's shared lock; a prune that waits for the
// lock retries while the restore reads and deletes the backup only after
// the restore released it. Every file is still there while the restore
// runs, and the restored collection equals the source.
func TestPruneAndDeleteNeverDeleteUnderARestore(t *testing.T) {
	for _, tg := range targets(t) {
		t.Run(tg.name, func(t *testing.T) {
			e := newEnv(t, tg.addr)
			ctx := testContext(t)
			coll := uniqueName("readlock")
			e.createFixture(t, fixture.Options{Name: coll, Rows: 5000, Dim: 16, Seed: 3})
			source := e.dump(t, coll)
			dir := newRepo(t)
			old := e.backup(t, dir, coll, "--name", "old")
			e.backup(t, dir, coll, "--name", "new")

			ls, err := local.New(dir)
			if err != nil {
				t.Fatal(err)
			}
			gate := &gatedStore{Store: ls, open: make(chan struct{}), reading: make(chan struct{})}
			r, err := repo.Open(ctx, gate)
			if err != nil {
				t.Fatal(err)
			}
			m, err := r.Find(ctx, old.ID)
			if err != nil {
				t.Fatal(err)
			}
			restored := coll + "_during_prune"
			e.dropLater(t, restored)
			done := make(chan error, 1)
			go func() {
				_, err := restore.Run(ctx, restore.Deps{Milvus: e.client, Repo: r}, m, restore.Params{Target: restored, Load: restore.LoadAlways})
				done <- err
			}()
			select {
			case <-gate.reading:
			case err := <-done:
				t.Fatalf("restore ended before reading data: %v", err)
			}

			expectFailure(t, e.milvault(t, dir, "delete", "--yes", old.ID), 6, "is locked", "shared lock for restore")
			expectFailure(t, e.milvault(t, dir, "prune", "--keep-last", "1", "--min-keep", "1"), 6, "is locked", "shared lock for restore")

			waited := make(chan error, 1)
			before := gate.lockPuts.Load()
			go func() { waited <- pruneWaiting(ctx, gate, old.ID) }()
			for gate.lockPuts.Load() < before+3 { // tried at least three times
				select {
				case err := <-waited:
					t.Fatalf("the waiting prune ended while the restore read: %v", err)
				case <-time.After(5 * time.Millisecond):
				}
			}
			checkFiles(t, ls, m.Files())

			close(gate.open)
			if err := <-done; err != nil {
				t.Fatalf("restore: %v", err)
			}
			if err := <-waited; err != nil {
				t.Fatalf("the waiting prune: %v", err)
			}
			sameDump(t, "restored during prune vs source", e.dump(t, restored), source)
			if _, err := r.Find(ctx, old.ID); err == nil {
				t.Error("the waiting prune did not delete the backup after the restore")
			}
			if locks, _ := r.Locks(ctx); len(locks) != 0 {
				t.Errorf("locks left: %v", locks)
			}
		})
	}
}

// pruneWaiting deletes backup id as prune does, waiting for the lock.
func pruneWaiting(ctx context.Context, s repo.Store, id string) error {
	r, err := repo.Open(ctx, s)
	if err != nil {
		return err
	}
	l, lctx, err := r.Lock(ctx, repo.LockOptions{Exclusive: true, Operation: "prune", Wait: 10 * time.Minute, PollEvery: 20 * time.Millisecond})
	if err != nil {
		return err
	}
	defer l.Unlock()
	return r.Delete(lctx, l, id)
}

// checkFiles fails unless every file is in s with its size.
func checkFiles(t *testing.T, s repo.Store, files []manifest.File) {
	t.Helper()
	for _, f := range files {
		fi, err := s.Stat(context.Background(), f.Path)
		if err != nil || fi.Size != f.Size {
			t.Errorf("%s while the restore reads: %v, size %d want %d", f.Path, err, fi.Size, f.Size)
		}
	}
}
