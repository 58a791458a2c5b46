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
	cleaned, err := r.CleanStale(t.Context())
	if err != nil || len(cleaned) != 1 {
		t.Fatalf("CleanStale = %v, %v; want the killed backup", cleaned, err)
	}
	if _, err := os.Stat(filepath.Join(root, "data", "20261121T000000Z-abcdef")); !os.IsNotExist(err) {
		t.Fatalf("the killed backup's folder is still there (stat error %v)", err)
	}
}
