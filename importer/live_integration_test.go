package importer

import (
	"path/filepath"
	"testing"

	"github.com/milvault/milvault/backup"
	"github.com/milvault/milvault/export"
	"github.com/milvault/milvault/internal/fixture"
	"github.com/milvault/milvault/internal/testenv"
	"github.com/milvault/milvault/milvus"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/local"
)

// TestImportLive round-trips, on Milvus Lite (the test server with the most
// field types: nullable fields, sparse, binary, float16 and bfloat16
// vectors), a collection with every feature the server has through a backup,
// a Parquet and a JSON-lines export and an import into a new collection, and
// compares every row with the source.
func TestImportLive(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, tg testenv.Target, c *milvus.Client) {
		if tg.Name != "lite" {
			t.Skipf("runs on Milvus Lite only (TestImportExport covers Milvus %s's field types)", tg.Name)
		}
		name := unique("import_live")
		d, err := fixture.Create(ctx(t), c, fixture.Options{Name: name, Rows: 400, Dim: 8, Seed: 9})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { drop(c, name) })
		want := filepath.Join(t.TempDir(), "want.jsonl")
		dumpTo(t, tg.Address, d.Collection, want)
		r, err := repo.Init(ctx(t), openDir(t, filepath.Join(t.TempDir(), "repo")))
		if err != nil {
			t.Fatal(err)
		}
		res, err := backup.Run(ctx(t), backup.Deps{Milvus: c, Repo: r}, backup.Params{Collections: []string{name}})
		if err != nil {
			t.Fatal(err)
		}
		// Not CSV: it writes null and empty text alike, and this collection
		// has nullable VarChar fields holding empty strings (documented;
		// TestImportExport round-trips CSV).
		for _, format := range []string{"parquet", "jsonl"} {
			dir := t.TempDir()
			dst, _ := local.New(dir)
			if _, err := export.Run(ctx(t), r, res.Manifest, dst, export.Options{Format: format}); err != nil {
				t.Fatal(err)
			}
			coll := unique("import_live_" + format)
			t.Cleanup(func() { drop(c, coll) })
			if _, err := Run(ctx(t), Deps{Milvus: c}, openDir(t, filepath.Join(dir, "default", name)), Params{Collection: coll}); err != nil {
				t.Fatalf("import %s: %v", format, err)
			}
			sameRows(t, tg.Address, coll, want)
		}
	})
}
