package backup_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/milvault/milvault/backup"
	"github.com/milvault/milvault/internal/testenv"
	"github.com/milvault/milvault/milvus"
	"github.com/milvault/milvault/progress"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/faulty"
	"github.com/milvault/milvault/repo/mem"
	"github.com/milvault/milvault/repo/retry"
)

// TestBackupsUnderTransientFaults is the fault-proof test: with 10 % of all
// store operations failing transiently (and 10 % of reads interrupted
// half-way) under the retry wrapper, 20 backups in a row succeed and each
// verifies.
func TestBackupsUnderTransientFaults(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, tg testenv.Target, c *milvus.Client) {
		ctx := context.Background()
		name := testenv.Collection(t, c, "bk_faults", 3000, 32)
		inner := mem.New()
		f := faulty.New(inner, 2026,
			faulty.Rule{Probability: 0.1, Kind: faulty.Transient},
			faulty.Rule{Ops: []faulty.Op{faulty.Open}, Probability: 0.1, Kind: faulty.Interrupt})
		var retries atomic.Int64
		store := retry.Wrap(f, retry.Options{IsTransient: faulty.IsTransient,
			MaxAttempts: 10, Base: time.Millisecond, Max: 20 * time.Millisecond,
			OnRetry: func(string, string, int, error) { retries.Add(1) }})
		r, err := repo.OpenOrInit(ctx, store)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		for i := range 20 {
			res, err := backup.Run(ctx, backup.Deps{Milvus: c, Repo: r}, backup.Params{Collections: []string{name}, ChunkBytes: 64 << 10})
			if err != nil {
				t.Fatalf("backup %d under faults: %v", i+1, err)
			}
			m := res.Manifest
			if m.TotalRows() != 3000 {
				t.Fatalf("backup %d: %d rows, want 3000", i+1, m.TotalRows())
			}
			if err := r.CheckFiles(ctx, m, m.Files(), progress.Nop); err != nil {
				t.Fatalf("backup %d does not verify: %v", i+1, err)
			}
		}
		list, problems, err := r.List(ctx)
		if err != nil || len(list) != 20 || len(problems) != 0 {
			t.Fatalf("List = %d backups, problems %v, %v; want 20", len(list), problems, err)
		}
		if locks, _ := repo.Open(ctx, inner); locks != nil {
			if ls, _ := locks.Locks(ctx); len(ls) != 0 {
				t.Errorf("locks left behind: %v", ls)
			}
		}
		t.Logf("%s: 20 backups + verifications in %s; faults injected %v; retries %d",
			tg.Name, time.Since(start).Round(time.Millisecond), f.Injected(), retries.Load())
	})
}

// TestPermanentFaultLeavesNothing injects a permanent failure into the 3rd
// Put (the data file, after the lock and the pending marker) and into the
// 4th (the manifest, at commit), with one and with four encode workers: the
// backup fails with an error that says so, and nothing of it remains.
func TestPermanentFaultLeavesNothing(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, tg testenv.Target, c *milvus.Client) {
		ctx := context.Background()
		name := testenv.Collection(t, c, "bk_permanent", 3000, 32)
		for _, tc := range []struct{ nth, workers int }{{3, 1}, {4, 1}, {3, 4}, {4, 4}} {
			nth := tc.nth
			inner := mem.New()
			f := faulty.New(inner, 1, faulty.Rule{Ops: []faulty.Op{faulty.Put}, Nth: nth, Kind: faulty.Permanent})
			store := retry.Wrap(f, retry.Options{IsTransient: faulty.IsTransient, Base: time.Millisecond})
			if _, err := repo.Init(ctx, inner); err != nil {
				t.Fatal(err)
			}
			r, _ := repo.Open(ctx, store)
			_, err := backup.Run(ctx, backup.Deps{Milvus: c, Repo: r}, backup.Params{Collections: []string{name}, ChunkBytes: 64 << 10, EncodeWorkers: tc.workers})
			var fe *faulty.Error
			if !errors.As(err, &fe) || !strings.Contains(err.Error(), "injected permanent fault: put") {
				t.Fatalf("put %d failing: backup error = %v, want the injected permanent fault", nth, err)
			}
			t.Logf("put %d failing: %v", nth, err)
			if list, _, _ := r.List(ctx); len(list) != 0 {
				t.Errorf("put %d failing: %d backups listed, want none", nth, len(list))
			}
			for _, prefix := range []string{"data/", "pending/", "manifests/", "locks/"} {
				if files, _ := inner.List(ctx, prefix); len(files) != 0 {
					t.Errorf("put %d failing: %s still holds %d files", nth, prefix, len(files))
				}
			}
		}
	})
}

// slowStore delays every data file Put, so that the backup pipeline has
// finished the next file before the previous one is stored.
type slowStore struct{ repo.Store }

func (s slowStore) Put(ctx context.Context, name string, r io.Reader) error {
	if strings.HasPrefix(name, "data/") {
		time.Sleep(30 * time.Millisecond)
	}
	return s.Store.Put(ctx, name, r)
}

// TestSlowUploadsKeepEveryFile backs up into many small files, four
// encoded at once, through a store whose uploads lag behind encoding: every file must be stored under
// its own name (a lagging upload once let two files share part-00000) and
// the backup must verify. Queries of 500 rows (about 70 KB of raw data, over
// the 64 KiB chunk size) make every batch its own file whatever the server's
// segment layout: with default batches a server that answered all 3000 rows
// at once gave a single file.
func TestSlowUploadsKeepEveryFile(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, tg testenv.Target, c *milvus.Client) {
		ctx := context.Background()
		name := testenv.Collection(t, c, "bk_slow", 3000, 32)
		inner := mem.New()
		r, err := repo.OpenOrInit(ctx, slowStore{inner})
		if err != nil {
			t.Fatal(err)
		}
		res, err := backup.Run(ctx, backup.Deps{Milvus: c, Repo: r}, backup.Params{Collections: []string{name}, ChunkBytes: 64 << 10, QueryBatchRows: 500, EncodeWorkers: 4})
		if err != nil {
			t.Fatal(err)
		}
		m := res.Manifest
		files := m.Files()
		t.Logf("%s: %d files", tg.Name, len(files))
		seen := map[string]bool{}
		for _, f := range files {
			if seen[f.Path] {
				t.Fatalf("file %s listed twice in the manifest", f.Path)
			}
			seen[f.Path] = true
		}
		if len(files) < 3 || m.TotalRows() != 3000 {
			t.Fatalf("%d files, %d rows; want several (at least 3) files and 3000 rows", len(files), m.TotalRows())
		}
		direct, err := repo.Open(ctx, inner)
		if err != nil {
			t.Fatal(err)
		}
		if err := direct.CheckFiles(ctx, m, files, progress.Nop); err != nil {
			t.Fatalf("backup does not verify: %v", err)
		}
	})
}
