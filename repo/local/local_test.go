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
