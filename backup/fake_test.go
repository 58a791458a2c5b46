package backup_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/milvault/milvault/backup"
	"github.com/milvault/milvault/internal/fakemilvus"
	"github.com/milvault/milvault/milvus"
	"github.com/milvault/milvault/progress"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/mem"
)

// fakeRepo returns a fresh in-memory repository and the store beneath it.
func fakeRepo(t *testing.T) (*repo.Repository, *mem.Store) {
	t.Helper()
	store := mem.New()
	r, err := repo.OpenOrInit(context.Background(), store)
	if err != nil {
		t.Fatal(err)
	}
	return r, store
}

// seeded returns a fake server holding collection "c": 3000 rows with
// 512-dim vectors (about 2 KiB a row, so several scan batches), spread over
// "_default" and "p1".
func seeded(t *testing.T, loaded bool) *fakemilvus.Server {
	t.Helper()
	s := fakemilvus.New()
	sd := fakemilvus.Seed{Name: "c", Rows: 3000, Dim: 512, Partitions: []string{"p1"}, Aliases: []string{"c_alias"}, Loaded: loaded}
	if err := s.Seed(context.Background(), sd); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestBackupWithoutServer backs up the fake's collection and checks the
// manifest against what the fake holds: rows per partition, checksums,
// indexes, aliases, and the load state (recorded, and put back).
func TestBackupWithoutServer(t *testing.T) {
	tests := []struct {
		name       string
		loaded     bool
		partitions []string
		wantRows   map[string]int64
	}{
		{"loaded", true, nil, map[string]int64{"_default": 1500, "p1": 1500}},
		{"released", false, nil, map[string]int64{"_default": 1500, "p1": 1500}},
		{"one partition", true, []string{"p1"}, map[string]int64{"p1": 1500}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			s := seeded(t, tt.loaded)
			r, _ := fakeRepo(t)
			res, err := backup.Run(ctx, backup.Deps{Milvus: s, Repo: r},
				backup.Params{Collections: []string{"c"}, Partitions: tt.partitions, ChunkBytes: 1 << 20})
			if err != nil {
				t.Fatal(err)
			}
			m := res.Manifest
			if len(m.Collections) != 1 {
				t.Fatalf("manifest holds %d collections, want 1", len(m.Collections))
			}
			c := m.Collections[0]
			got := map[string]int64{}
			for _, p := range c.Partitions {
				got[p.Name] = p.Rows
			}
			if !mapsEqual(got, tt.wantRows) {
				t.Errorf("rows per partition = %v, want %v", got, tt.wantRows)
			}
			for _, p := range c.Partitions {
				var inFiles int64
				for _, f := range p.Files {
					inFiles += f.Rows
				}
				if len(p.Files) == 0 || inFiles != p.Rows {
					t.Errorf("partition %s: %d files holding %d rows, want at least one file and %d rows", p.Name, len(p.Files), inFiles, p.Rows)
				}
			}
			if err := r.CheckFiles(ctx, m, m.Files(), progress.Nop); err != nil {
				t.Errorf("backup does not verify: %v", err)
			}
			if len(c.Indexes) != 1 || c.Indexes[0].Name != "v_flat" || c.Indexes[0].Params["index_type"] != "FLAT" {
				t.Errorf("indexes = %+v, want v_flat FLAT", c.Indexes)
			}
			if !slices.Equal(c.Aliases, []string{"c_alias"}) {
				t.Errorf("aliases = %v, want [c_alias]", c.Aliases)
			}
			wantState := milvus.LoadStateNotLoaded
			if tt.loaded {
				wantState = milvus.LoadStateLoaded
			}
			if c.LoadState != wantState {
				t.Errorf("recorded load state = %s, want %s", c.LoadState, wantState)
			}
			if st, _ := s.LoadState(ctx, "default", "c"); st != wantState {
				t.Errorf("load state after the backup = %s, want %s (put back)", st, wantState)
			}
		})
	}
}

func mapsEqual(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestBackupStoppedMidScanLeavesNothing fails or cancels the backup at
// the second scan batch, after data files of the first were stored, with
// one and with four encode workers: the
// backup must fail with that cause, list nothing, leave no data, pending
// marker or lock behind, and put the collection's load state back.
func TestBackupStoppedMidScanLeavesNothing(t *testing.T) {
	injected := errors.New("injected scan failure")
	tests := []struct {
		name    string
		stop    func(cancel context.CancelFunc) error // what happens at the second batch
		wantErr error
	}{
		{"scan fails", func(context.CancelFunc) error { return injected }, injected},
		{"cancelled", func(cancel context.CancelFunc) error { cancel(); return nil }, context.Canceled},
	}
	for _, tt := range tests {
		for _, workers := range []int{1, 4} {
			t.Run(fmt.Sprintf("%s/%d workers", tt.name, workers), func(t *testing.T) {
				testStoppedMidScan(t, tt.stop, tt.wantErr, workers)
			})
		}
	}
}

func testStoppedMidScan(t *testing.T, stop func(cancel context.CancelFunc) error, wantErr error, workers int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := seeded(t, false)
	r, store := fakeRepo(t)
	dataAtStop := 0
	s.SetHook(func(op string, n int) error {
		if op != "scan" || n != 2 {
			return nil
		}
		files, _ := store.List(context.Background(), "data/")
		dataAtStop = len(files)
		return stop(cancel)
	})
	_, err := backup.Run(ctx, backup.Deps{Milvus: s, Repo: r}, backup.Params{Collections: []string{"c"}, ChunkBytes: 64 << 10, EncodeWorkers: workers})
	if !errors.Is(err, wantErr) {
		t.Fatalf("backup error = %v, want %v", err, wantErr)
	}
	if dataAtStop == 0 {
		t.Fatal("no data file was stored before the stop; the test proves nothing")
	}
	bctx := context.Background()
	if list, _, _ := r.List(bctx); len(list) != 0 {
		t.Errorf("%d backups listed, want none", len(list))
	}
	for _, prefix := range []string{"data/", "pending/", "manifests/", "locks/"} {
		if files, _ := store.List(bctx, prefix); len(files) != 0 {
			t.Errorf("%s still holds %d files", prefix, len(files))
		}
	}
	if st, _ := s.LoadState(bctx, "default", "c"); st != milvus.LoadStateNotLoaded {
		t.Errorf("load state after the failed backup = %s, want %s", st, milvus.LoadStateNotLoaded)
	}
}
