package export

import (
	"context"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/milvault/milvault/backup"
	"github.com/milvault/milvault/internal/fixture"
	"github.com/milvault/milvault/internal/testenv"
	"github.com/milvault/milvault/milvus"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/local"
)

// TestExportLive backs up, on Milvus Lite (the test server with the most
// field types: nullable fields, sparse, binary, float16 and bfloat16
// vectors besides those of the fixture repository, which
// TestExportReadBack covers), a collection with every feature the server
// has, exports it in
// every format and reads each export back with pyarrow, json and csv
// (scripts/check_export.py), comparing every row with a pymilvus dump of
// the live collection.
func TestExportLive(t *testing.T) {
	py := python(t)
	testenv.ForEach(t, func(t *testing.T, tg testenv.Target, c *milvus.Client) {
		if tg.Name != "lite" {
			t.Skipf("runs on Milvus Lite only (the fixture repository covers Milvus %s's field types)", tg.Name)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		name := "export_live_" + tg.Name
		_ = c.DropCollection(ctx, "default", name)
		d, err := fixture.Create(ctx, c, fixture.Options{Name: name, Rows: 600, Dim: 8, Seed: 5})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = d.Drop(context.Background(), c) })
		want := filepath.Join(t.TempDir(), "want.jsonl")
		if out, err := exec.Command(py, "../scripts/dump_collection.py", tg.Address, name, want).CombinedOutput(); err != nil {
			t.Fatalf("dump: %v\n%s", err, out)
		}
		s, _ := local.New(filepath.Join(t.TempDir(), "repo"))
		r, err := repo.Init(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		res, err := backup.Run(ctx, backup.Deps{Milvus: c, Repo: r}, backup.Params{Collections: []string{name}, ChunkBytes: 64 << 10})
		if err != nil {
			t.Fatal(err)
		}
		m, err := r.Find(ctx, res.Manifest.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, format := range Formats {
			dir := t.TempDir()
			dst, _ := local.New(dir)
			if _, err := Run(ctx, r, m, dst, Options{Format: format}); err != nil {
				t.Fatalf("export %s: %v", format, err)
			}
			if out, err := exec.Command(py, "../scripts/check_export.py", dir, "default", name, format, want).CombinedOutput(); err != nil {
				t.Errorf("%s export read back differs from the collection: %v\n%s", format, err, out)
			}
		}
	})
}
