package restore_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"

	"github.com/milvault/milvault/backup"
	"github.com/milvault/milvault/internal/fakemilvus"
	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/mem"
	"github.com/milvault/milvault/restore"
)

// fakeBackup seeds a fake server with collection "c" (1200 rows of 64-dim
// vectors over "_default" and "p1", alias "c_alias", loaded), backs it up
// into an in-memory repository, and returns all three plus the rows.
func fakeBackup(t *testing.T) (*fakemilvus.Server, *repo.Repository, *mem.Store, *manifest.Manifest, []map[string]any) {
	t.Helper()
	ctx := context.Background()
	s := fakemilvus.New()
	sd := fakemilvus.Seed{Name: "c", Rows: 1200, Dim: 64, Partitions: []string{"p1"}, Aliases: []string{"c_alias"}, Loaded: true}
	if err := s.Seed(ctx, sd); err != nil {
		t.Fatal(err)
	}
	store := mem.New()
	r, err := repo.OpenOrInit(ctx, store)
	if err != nil {
		t.Fatal(err)
	}
	res, err := backup.Run(ctx, backup.Deps{Milvus: s, Repo: r}, backup.Params{Collections: []string{"c"}, ChunkBytes: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := s.Rows("default", "c")
	if err != nil || len(rows) != 1200 {
		t.Fatalf("seeded rows: %d, %v; want 1200", len(rows), err)
	}
	return s, r, store, res.Manifest, rows
}

// TestRestoreWithoutServer restores a backup taken from the fake back into
// it and checks that every row, partition, index, alias and the load state
// are recreated as asked.
func TestRestoreWithoutServer(t *testing.T) {
	tests := []struct {
		name        string
		p           restore.Params
		db, coll    string
		wantLoaded  bool
		wantAliases []string // aliases of the restored collection afterwards
	}{
		{"new name", restore.Params{Target: "c2"}, "default", "c2", true, nil},
		{"suffix, not loaded", restore.Params{Suffix: "_r", Load: restore.LoadNever}, "default", "c_r", false, nil},
		{"other database", restore.Params{Database: "db2"}, "db2", "c", true, nil},
		{"replace with aliases", restore.Params{DropExisting: true, Aliases: true}, "default", "c", true, []string{"c_alias"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			s, r, _, m, want := fakeBackup(t)
			p := tt.p
			p.BatchBytes = 64 << 10 // many Insert calls
			res, err := restore.Run(ctx, restore.Deps{Milvus: s, Repo: r}, m, p)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Collections) != 1 || res.Collections[0].Rows != 1200 || res.Collections[0].Method != restore.MethodInsert {
				t.Fatalf("result = %+v, want one collection of 1200 rows restored by insert", res.Collections)
			}
			got, err := s.Rows(tt.db, tt.coll)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("restored rows differ from the backed-up ones (%d rows, want %d)", len(got), len(want))
			}
			checkRestored(t, s, tt.db, tt.coll, tt.wantLoaded, tt.wantAliases)
		})
	}
}

// checkRestored compares partitions, indexes, load state and aliases.
func checkRestored(t *testing.T, s *fakemilvus.Server, db, coll string, loaded bool, aliases []string) {
	t.Helper()
	ctx := context.Background()
	parts, _ := s.Partitions(ctx, db, coll)
	if !slices.Equal(parts, []string{"_default", "p1"}) {
		t.Errorf("partitions = %v, want [_default p1]", parts)
	}
	idx, _ := s.Indexes(ctx, db, coll)
	if len(idx) != 1 || idx[0].GetIndexName() != "v_flat" {
		t.Errorf("indexes = %v, want v_flat", idx)
	}
	st, _ := s.LoadState(ctx, db, coll)
	if got := st == "loaded"; got != loaded {
		t.Errorf("load state = %s, want loaded %v", st, loaded)
	}
	if got, _ := s.Aliases(ctx, db, coll); !slices.Equal(got, aliases) {
		t.Errorf("aliases = %v, want %v", got, aliases)
	}
}

// TestRestoreStoppedMidInsertDropsCollection fails or cancels the restore
// at the 3rd Insert call: the restore must fail with that cause, drop the
// partially filled collection, leave the source collection alone and
// release its lock.
func TestRestoreStoppedMidInsertDropsCollection(t *testing.T) {
	injected := errors.New("injected insert failure")
	tests := []struct {
		name    string
		stop    func(cancel context.CancelFunc) error // what happens at the 3rd insert
		wantErr error
	}{
		{"insert fails", func(context.CancelFunc) error { return injected }, injected},
		{"cancelled", func(cancel context.CancelFunc) error { cancel(); return nil }, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			s, r, store, m, want := fakeBackup(t)
			reached := false
			s.SetHook(func(op string, n int) error {
				if op != "insert" || n != 3 {
					return nil
				}
				reached = true
				return tt.stop(cancel)
			})
			_, err := restore.Run(ctx, restore.Deps{Milvus: s, Repo: r}, m, restore.Params{Suffix: "_r", BatchBytes: 64 << 10})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("restore error = %v, want %v", err, tt.wantErr)
			}
			if !reached {
				t.Fatal("the 3rd insert never happened; the test proves nothing")
			}
			bctx := context.Background()
			if ok, _ := s.HasCollection(bctx, "default", "c_r"); ok {
				t.Error("the partially restored collection c_r still exists")
			}
			if got, _ := s.Rows("default", "c"); !reflect.DeepEqual(got, want) {
				t.Error("the source collection changed")
			}
			if files, _ := store.List(bctx, "locks/"); len(files) != 0 {
				t.Errorf("locks left behind: %v", files)
			}
		})
	}
}
