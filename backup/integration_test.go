package backup_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/milvault/milvault/backup"
	"github.com/milvault/milvault/internal/testenv"
	"github.com/milvault/milvault/milvus"
	"github.com/milvault/milvault/progress"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/local"
	"github.com/milvault/milvault/repo/mem"
)

// tinyDisk is a store that reports almost no free space.
type tinyDisk struct{ *mem.Store }

func (tinyDisk) FreeSpace(context.Context) (int64, error) { return 1000, nil }

// TestRefusesWhenSpaceIsShort also checks that a released collection is
// loaded for the backup and released again.
func TestRefusesWhenSpaceIsShort(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, tg testenv.Target, c *milvus.Client) {
		ctx := context.Background()
		name := testenv.Collection(t, c, "bk_space", 500, 8)
		store := tinyDisk{mem.New()}
		r, err := repo.OpenOrInit(ctx, store)
		if err != nil {
			t.Fatal(err)
		}
		_, err = backup.Run(ctx, backup.Deps{Milvus: c, Repo: r}, backup.Params{Collections: []string{name}})
		var ise *backup.InsufficientStorageError
		if !errors.As(err, &ise) || ise.Required < 500*4*8 || ise.Available != 1000 {
			t.Fatalf("backup error = %v, want InsufficientStorageError with required >= %d and available 1000", err, 500*4*8)
		}
		if files, _ := store.List(ctx, "data/"); len(files) != 0 {
			t.Fatalf("refused backup left %d data files", len(files))
		}
		before, err := c.LoadState(ctx, "default", name)
		if err != nil {
			t.Fatal(err)
		}
		res, err := backup.Run(ctx, backup.Deps{Milvus: c, Repo: r}, backup.Params{Collections: []string{name}, SkipSpaceCheck: true})
		if err != nil || res.Manifest.TotalRows() != 500 {
			t.Fatalf("backup with SkipSpaceCheck = %v, %v; want 500 rows", res, err)
		}
		// A released collection (Milvus 2.3; lite loads new collections by
		// itself) is loaded for the backup and released again.
		if got := res.Manifest.Collections[0].LoadState; got != before {
			t.Errorf("manifest load state = %s, want %s", got, before)
		}
		if st, err := c.LoadState(ctx, "default", name); err != nil || st != before {
			t.Errorf("load state after backup = %s, %v; want %s", st, err, before)
		}
	})
}

// TestLocalRepositorySpoolsInPlace: in a local repository data files are
// spooled in the repository's folder and linked into place (nothing is left
// under a temporary name), and spool files a killed backup left behind are
// removed by the next backup.
func TestLocalRepositorySpoolsInPlace(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, tg testenv.Target, c *milvus.Client) {
		ctx := context.Background()
		name := testenv.Collection(t, c, "bk_spool", 2000, 16)
		dir := t.TempDir()
		store, err := local.New(dir)
		if err != nil {
			t.Fatal(err)
		}
		r, err := repo.OpenOrInit(ctx, store)
		if err != nil {
			t.Fatal(err)
		}
		stale := filepath.Join(dir, ".tmp-milvault-chunk-123.parquet")
		if err := os.WriteFile(stale, []byte("left by a killed backup"), 0o600); err != nil {
			t.Fatal(err)
		}
		res, err := backup.Run(ctx, backup.Deps{Milvus: c, Repo: r}, backup.Params{Collections: []string{name}, ChunkBytes: 64 << 10})
		if err != nil {
			t.Fatal(err)
		}
		if left, _ := filepath.Glob(filepath.Join(dir, ".tmp-*")); len(left) != 0 {
			t.Fatalf("temporary files left in the repository: %v", left)
		}
		if err := r.CheckFiles(ctx, res.Manifest, res.Manifest.Files(), progress.Nop); err != nil {
			t.Fatalf("backup does not verify: %v", err)
		}
	})
}
