package importer

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/milvault/milvault/export"
	"github.com/milvault/milvault/internal/testenv"
	"github.com/milvault/milvault/milvus"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/local"
)

// fixture is the repository written by the current format version (see
// internal/compat) with the dumps of its source collections.
const fixtureDir = "../testdata/repositories/v1"

// TestImportBulkWriter writes Parquet files with pymilvus's BulkWriter
// (scripts/bulkwriter_fixture.py, which also creates the collection, as a
// user does before a bulk import), imports them with Run and compares
// every row of the collection, dumped by pymilvus, with what was written.
func TestImportBulkWriter(t *testing.T) {
	testenv.Targets(t) // skips first when there is no server
	py := bulkWriterPython(t)
	testenv.ForEach(t, func(t *testing.T, tg testenv.Target, c *milvus.Client) {
		coll := unique("import_bw")
		dir := t.TempDir()
		want := filepath.Join(dir, "expected.jsonl")
		files := filepath.Join(dir, "files")
		t.Cleanup(func() { drop(c, coll) })
		if out, err := exec.Command(py, "../scripts/bulkwriter_fixture.py", tg.Address, coll, files, want, "700").CombinedOutput(); err != nil {
			t.Fatalf("bulkwriter_fixture.py: %v\n%s", err, out)
		}
		res, err := Run(ctx(t), Deps{Milvus: c}, openDir(t, files), Params{Collection: coll})
		if err != nil {
			t.Fatal(err)
		}
		if res.Rows != 700 || res.Created {
			t.Errorf("imported %d rows (created: %v), want 700 into the existing collection", res.Rows, res.Created)
		}
		sameRows(t, tg.Address, coll, want)
	})
}

// TestImportExport exports the fixture backup in every format, imports
// each collection folder into a new collection (created from schema.json,
// with its partitions and indexes) and compares every row with the dump of
// the fixture's source collection. Text decoding does not depend on the
// server, so servers other than Milvus Lite (the quickest to create, index
// and load collections) import the Parquet export only.
func TestImportExport(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, tg testenv.Target, c *milvus.Client) {
		formats := export.Formats
		if tg.Name != "lite" {
			formats = []string{"parquet"}
		}
		for _, format := range formats {
			t.Run(format, func(t *testing.T) { importExport(t, tg, c, format) })
		}
	})
}

func importExport(t *testing.T, tg testenv.Target, c *milvus.Client, format string) {
	dir := t.TempDir()
	r := openFixture(t)
	m, err := r.Find(ctx(t), "compat-both")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := export.Run(ctx(t), r, m, openDir(t, dir), export.Options{Format: format}); err != nil {
		t.Fatal(err)
	}
	for _, src := range []string{"compat_docs", "compat_tags"} {
		coll := unique(src)
		t.Cleanup(func() { drop(c, coll) })
		res, err := Run(ctx(t), Deps{Milvus: c}, openDir(t, filepath.Join(dir, "default", src)), Params{Collection: coll})
		if err != nil {
			t.Fatalf("import %s: %v", src, err)
		}
		if !res.Created {
			t.Errorf("import of %s did not create %s", src, coll)
		}
		sameRows(t, tg.Address, coll, filepath.Join(fixtureDir, "expected", src+".jsonl"))
	}
}

func bulkWriterPython(t *testing.T) string {
	t.Helper()
	py := os.Getenv("MILVAULT_TEST_BULKWRITER_PYTHON")
	if py == "" {
		home, _ := os.UserHomeDir()
		py = filepath.Join(home, ".cache", "milvault", "bulkwriter-venv", "bin", "python")
	}
	if err := exec.Command(py, "-c", "from pymilvus.bulk_writer import LocalBulkWriter").Run(); err != nil {
		t.Skipf("no Python with pymilvus's BulkWriter at %s (%v): run scripts/bulkwriter-venv.sh install", py, err)
	}
	return py
}

// sameRows dumps coll with pymilvus and compares it with the dump in want.
func sameRows(t *testing.T, addr, coll, want string) {
	t.Helper()
	got := filepath.Join(t.TempDir(), coll+".jsonl")
	dumpTo(t, addr, coll, got)
	g, _ := os.ReadFile(got)
	w, err := os.ReadFile(want)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(g, w) {
		t.Errorf("%s holds other rows than were written (%d vs %d bytes of dump)", coll, len(g), len(w))
	}
}

// dumpTo writes every row of coll to out with scripts/dump_collection.py.
func dumpTo(t *testing.T, addr, coll, out string) {
	t.Helper()
	py, _ := filepath.Abs("../.venv/bin/python")
	if msg, err := exec.Command(py, "../scripts/dump_collection.py", addr, coll, out).CombinedOutput(); err != nil {
		t.Fatalf("dump %s: %v\n%s", coll, err, msg)
	}
}

func openDir(t *testing.T, dir string) repo.Store {
	t.Helper()
	s, err := local.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func openFixture(t *testing.T) *repo.Repository {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "repo")
	if err := os.CopyFS(dir, os.DirFS(filepath.Join(fixtureDir, "repo"))); err != nil {
		t.Fatal(err)
	}
	r, err := repo.Open(context.Background(), openDir(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	t.Cleanup(cancel)
	return c
}

func unique(prefix string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return prefix + "_" + hex.EncodeToString(b)
}

func drop(c *milvus.Client, coll string) {
	ctx := context.Background()
	if ok, _ := c.HasCollection(ctx, "default", coll); ok {
		_ = c.DropCollection(ctx, "default", coll)
	}
}
