package export

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/milvault/milvault/errkind"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/local"
)

// fixture is the repository written by the current format version (see
// internal/compat) with the dumps of its source collections.
const fixtureDir = "../testdata/repositories/v1"

// openFixture opens a copy of the fixture repository (Run writes a lock
// file; the committed fixture must not change).
func openFixture(t *testing.T) *repo.Repository {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "repo")
	if err := os.CopyFS(dir, os.DirFS(filepath.Join(fixtureDir, "repo"))); err != nil {
		t.Fatal(err)
	}
	s, err := local.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	r, err := repo.Open(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// python returns the venv interpreter with pyarrow and pymilvus, or skips.
func python(t *testing.T) string {
	t.Helper()
	py, _ := filepath.Abs("../.venv/bin/python")
	if err := exec.Command(py, "-c", "import pyarrow, pymilvus").Run(); err != nil {
		t.Skipf("no Python venv with pyarrow and pymilvus at %s (%v): run scripts/milvus-env.sh install", py, err)
	}
	return py
}

// TestExportReadBack exports the fixture backup of two collections in every
// format, reads the files back with pyarrow, Python's json and csv modules
// (scripts/check_export.py) and compares every row with the dump pymilvus
// took of the source collections when the fixture was written.
func TestExportReadBack(t *testing.T) {
	py := python(t)
	r := openFixture(t)
	m, err := r.Find(context.Background(), "compat-both")
	if err != nil {
		t.Fatal(err)
	}
	for _, format := range Formats {
		t.Run(format, func(t *testing.T) {
			dir := t.TempDir()
			dst, err := local.New(dir)
			if err != nil {
				t.Fatal(err)
			}
			res, err := Run(context.Background(), r, m, dst, Options{Format: format})
			if err != nil {
				t.Fatal(err)
			}
			if res.Rows != 36 || len(res.Collections) != 2 {
				t.Errorf("exported %d rows of %d collections, want 36 of 2", res.Rows, len(res.Collections))
			}
			for _, c := range []string{"compat_docs", "compat_tags"} {
				out, err := exec.Command(py, "../scripts/check_export.py", dir, "default", c, format,
					filepath.Join(fixtureDir, "expected", c+".jsonl")).CombinedOutput()
				if err != nil {
					t.Errorf("%s as %s read back differs from the source: %v\n%s", c, format, err, out)
				}
			}
		})
	}
}

// TestExportRefuses checks the errors given before anything is written.
func TestExportRefuses(t *testing.T) {
	r := openFixture(t)
	ctx := context.Background()
	m, err := r.Find(ctx, "compat-both")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	dst, _ := local.New(dir)
	for _, tc := range []struct {
		o    Options
		kind errkind.Kind
		msg  string
	}{
		{Options{Format: "xml"}, errkind.Usage, "parquet, jsonl or csv"},
		{Options{Collections: []string{"nope"}}, errkind.NotFound, "default.compat_docs"},
	} {
		_, err := Run(ctx, r, m, dst, tc.o)
		if errkind.Of(err) != tc.kind || err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("Run(%+v) = %v, want a %v error mentioning %q", tc.o, err, tc.kind, tc.msg)
		}
	}
	if _, err := Run(ctx, r, m, dst, Options{Collections: []string{"compat_tags"}}); err != nil {
		t.Fatal(err)
	}
	_, err = Run(ctx, r, m, dst, Options{Collections: []string{"compat_tags"}})
	if errkind.Of(err) != errkind.Conflict || !strings.Contains(err.Error(), "empty folder") {
		t.Errorf("second export into the same folder = %v, want a conflict asking for an empty folder", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "default", "compat_docs")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("refused exports wrote files: %v", err)
	}
}
