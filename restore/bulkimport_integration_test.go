package restore_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"

	"github.com/milvault/milvault/backup"
	"github.com/milvault/milvault/internal/fixture"
	"github.com/milvault/milvault/internal/testenv"
	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/milvus"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/local"
	"github.com/milvault/milvault/restore"
	"github.com/milvault/milvault/verify"
)

// skipUnlessImport skips a test on servers without bulk import.
func skipUnlessImport(t *testing.T, c *milvus.Client) {
	t.Helper()
	ok, err := c.CanImport(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		t.Skipf("Milvus %s has no bulk import (its Import RPCs answer Unimplemented); TestBulkImportFallback covers the fallback", c.Version())
	}
}

// backupOf backs up collections of the default database into a fresh local
// repository.
func backupOf(t *testing.T, c *milvus.Client, names ...string) (*repo.Repository, *manifest.Manifest) {
	t.Helper()
	ctx := context.Background()
	s, err := local.New(filepath.Join(t.TempDir(), "repo"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := repo.OpenOrInit(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	res, err := backup.Run(ctx, backup.Deps{Milvus: c, Repo: r}, backup.Params{Collections: names})
	if err != nil {
		t.Fatal(err)
	}
	return r, res.Manifest
}

func createFixture(t *testing.T, c *milvus.Client, opts fixture.Options) *fixture.Dataset {
	t.Helper()
	d, err := fixture.Create(context.Background(), c, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Drop(context.Background(), c) })
	return d
}

// stagingLeft lists what a restore left in its bulk import directory.
func stagingLeft(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// TestBulkImportRoundTrip restores, through the server's bulk import, a
// collection with every field type the server has (JSON, arrays, dynamic
// field, several partitions) into another database, and a partition-key
// collection, and compares every row with the source.
func TestBulkImportRoundTrip(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, tg testenv.Target, c *milvus.Client) {
		skipUnlessImport(t, c)
		ctx := context.Background()
		d := createFixture(t, c, fixture.Options{Name: fmt.Sprintf("bulk_src_%d", rand.Uint32()), Rows: 1200, Dim: 8, Seed: 5})
		pkey := partitionKeyCollection(t, c, 900)
		r, m := backupOf(t, c, d.Collection, pkey)

		db := fmt.Sprintf("bulk_db_%d", rand.Uint32())
		t.Cleanup(func() {
			for _, n := range []string{d.Collection, pkey} {
				c.DropCollection(context.Background(), db, n)
			}
			c.Service().DropDatabase(context.Background(), &milvuspb.DropDatabaseRequest{DbName: db})
		})
		stage := t.TempDir()
		res, err := restore.Run(ctx, restore.Deps{Milvus: c, Repo: r}, m, restore.Params{
			Database: db, Load: restore.LoadAlways, BulkImportDir: stage, BulkImportStrict: true,
		})
		if err != nil {
			t.Fatal(err)
		}
		if left := stagingLeft(t, stage); len(left) != 0 {
			t.Errorf("staging directory not cleaned up: %v", left)
		}
		for _, cr := range res.Collections {
			if cr.Method != restore.MethodBulkImport {
				t.Errorf("%s restored by %q, want %q", cr.Name, cr.Method, restore.MethodBulkImport)
			}
			a, errA := verify.Digest(ctx, c, "default", cr.Name)
			b, errB := verify.Digest(ctx, c, db, cr.Name)
			if errA != nil || errB != nil || !slices.Equal(a, b) {
				t.Fatalf("%s: digests differ: source %v (%v), restored %v (%v)", cr.Name, a, errA, b, errB)
			}
			var rows int64
			for _, p := range b {
				rows += p.Rows
			}
			if rows != cr.Rows || rows == 0 {
				t.Errorf("%s: digest counts %d rows, result says %d", cr.Name, rows, cr.Rows)
			}
		}
		if len(res.Collections) != 2 {
			t.Fatalf("restored %d collections, want 2", len(res.Collections))
		}
	})
}

// TestBulkImportFallback restores with bulk import where it cannot be used:
// on a server without import (Milvus Lite), and everywhere for auto_id keys
// with --auto-id=regenerate. The restore falls back to Insert calls with a
// warning that says why; in strict mode it refuses before creating
// anything.
func TestBulkImportFallback(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, tg testenv.Target, c *milvus.Client) {
		ctx := context.Background()
		canImport, err := c.CanImport(ctx)
		if err != nil {
			t.Fatal(err)
		}
		d := createFixture(t, c, fixture.Options{Name: fmt.Sprintf("bulk_auto_%d", rand.Uint32()), Rows: 600, Dim: 8, AutoID: true, Seed: 6})
		r, m := backupOf(t, c, d.Collection)
		stage := t.TempDir()
		target := d.Collection + "_r"
		t.Cleanup(func() { c.DropCollection(context.Background(), "default", target) })
		p := restore.Params{Target: target, Load: restore.LoadNever, AutoID: restore.AutoIDRegenerate, BulkImportDir: stage, BulkImportStrict: true}

		_, err = restore.Run(ctx, restore.Deps{Milvus: c, Repo: r}, m, p)
		var np *restore.ImportNotPossibleError
		if !errors.As(err, &np) {
			t.Fatalf("strict restore: got %v, want an ImportNotPossibleError", err)
		}
		if ok, _ := c.HasCollection(ctx, "default", target); ok {
			t.Fatalf("strict restore that refused created %s", target)
		}

		p.BulkImportStrict = false
		res, err := restore.Run(ctx, restore.Deps{Milvus: c, Repo: r}, m, p)
		if err != nil {
			t.Fatal(err)
		}
		if got := res.Collections[0]; got.Method != restore.MethodInsert || got.Rows != int64(d.Rows) {
			t.Errorf("restored by %q with %d rows, want %q with %d", got.Method, got.Rows, restore.MethodInsert, d.Rows)
		}
		want := "auto_id"
		if !canImport {
			want = "does not support bulk import"
		}
		if !slices.ContainsFunc(res.Warnings, func(w string) bool {
			return strings.Contains(w, want) && strings.Contains(w, "Insert calls instead of bulk import")
		}) {
			t.Errorf("warnings %q do not say that the restore fell back to Insert calls because of %q", res.Warnings, want)
		}
		if n, err := c.RowCount(ctx, "default", target); err != nil || n != int64(d.Rows) {
			t.Errorf("restored collection holds %d rows (%v), want %d", n, err, d.Rows)
		}
		if left := stagingLeft(t, stage); len(left) != 0 {
			t.Errorf("staging directory not cleaned up: %v", left)
		}
	})
}

// TestBulkImportServerCannotRead gives the server a path under which it
// cannot find the staged files: the restore fails with advice, drops the
// collection it created and removes the staged files.
func TestBulkImportServerCannotRead(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, tg testenv.Target, c *milvus.Client) {
		skipUnlessImport(t, c)
		ctx := context.Background()
		d := createFixture(t, c, fixture.Options{Name: fmt.Sprintf("bulk_fail_%d", rand.Uint32()), Rows: 300, Dim: 8, Seed: 7})
		r, m := backupOf(t, c, d.Collection)
		stage := t.TempDir()
		target := d.Collection + "_r"
		t.Cleanup(func() { c.DropCollection(context.Background(), "default", target) })
		_, err := restore.Run(ctx, restore.Deps{Milvus: c, Repo: r}, m, restore.Params{
			Target: target, Load: restore.LoadNever, BulkImportDir: stage,
			BulkImportServerPath: "/nonexistent-milvault-import-dir",
		})
		if err == nil || !strings.Contains(err.Error(), "cannot read the staged file") || !strings.Contains(err.Error(), "was dropped") {
			t.Fatalf("got %v, want a failed import that explains the server cannot read the staged file and drops the collection", err)
		}
		if ok, _ := c.HasCollection(ctx, "default", target); ok {
			t.Errorf("the failed restore left %s behind", target)
		}
		if left := stagingLeft(t, stage); len(left) != 0 {
			t.Errorf("staging directory not cleaned up: %v", left)
		}
	})
}
