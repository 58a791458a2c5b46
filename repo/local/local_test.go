package local

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/storetest"
)

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) repo.Store {
		s, err := New(filepath.Join(t.TempDir(), "repo"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestNewRejectsFile(t *testing.T) {
	f := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(f, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := New(f); err == nil || !strings.Contains(err.Error(), "is a file") {
		t.Fatalf("New(file) error = %v, want 'is a file'", err)
	}
}

func TestRejectsTraversal(t *testing.T) {
	s, _ := New(t.TempDir())
	for _, name := range []string{"../x", "a/../../x", "/etc/passwd", "a//b", ""} {
		if err := s.Put(t.Context(), name, strings.NewReader("x")); err == nil {
			t.Errorf("Put(%q) succeeded, want error", name)
		}
	}
}

// TestCleanStaleRemovesHiddenTempFiles covers a backup killed in the middle
// of a Put: its folder holds only a temporary file that List does not show.
func TestCleanStaleRemovesHiddenTempFiles(t *testing.T) {
	root := t.TempDir()
	s, _ := New(root)
	r, err := repo.OpenOrInit(t.Context(), s)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "data", "20261121T000000Z-abcdef", "default", "c", "_default")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, ".tmp-part-00000.parquet-123"), []byte("half"), 0o644)
	l, _, err := r.Lock(t.Context(), repo.LockOptions{Exclusive: true, Operation: "test"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Unlock()
	cleaned, err := r.CleanStale(t.Context(), l)
	if err != nil || len(cleaned) != 1 {
		t.Fatalf("CleanStale = %v, %v; want the killed backup", cleaned, err)
	}
	if _, err := os.Stat(filepath.Join(root, "data", "20261121T000000Z-abcdef")); !os.IsNotExist(err) {
		t.Fatalf("the killed backup's folder is still there (stat error %v)", err)
	}
}

// TestPutLinksFinishedFiles: an *os.File at offset 0 on the store's file
// system is linked into place (same inode, no copy); one at another offset,
// or any other reader, is copied.
func TestPutLinksFinishedFiles(t *testing.T) {
	dir := t.TempDir()
	s, _ := New(dir)
	spool := func(content string) *os.File {
		f, err := os.CreateTemp(dir, ".tmp-spool-*")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteString(content); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	check := func(name, want string, linkedTo *os.File) {
		t.Helper()
		got, err := os.ReadFile(s.localPath(name))
		if err != nil || string(got) != want {
			t.Fatalf("%s holds %q, %v; want %q", name, got, err, want)
		}
		byPath, _ := os.Stat(s.localPath(name))
		byFD, _ := linkedTo.Stat()
		if linked := os.SameFile(byPath, byFD); linked != (linkedTo != nil && want == "whole file") {
			t.Fatalf("%s linked = %v", name, linked)
		}
	}

	f := spool("whole file")
	if _, err := f.Seek(0, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(t.Context(), "data/a", f); err != nil {
		t.Fatal(err)
	}
	check("data/a", "whole file", f)
	os.Remove(f.Name()) // the caller drops its spool; the stored file stays
	check("data/a", "whole file", f)

	g := spool("skip:rest")
	if _, err := g.Seek(5, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(t.Context(), "data/b", g); err != nil {
		t.Fatal(err)
	}
	check("data/b", "rest", g)

	list, err := s.List(t.Context(), "")
	if err != nil || len(list) != 2 {
		t.Fatalf("List = %v, %v; want data/a and data/b only (no temporary names)", list, err)
	}
}
