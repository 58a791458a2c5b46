package storetest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"slices"
	"testing"

	"github.com/milvault/milvault/repo"
)

func testOpenRange(t *testing.T, s repo.Store) {
	ctx := context.Background()
	content := make([]byte, 100000)
	if _, err := io.ReadFull(noise(4, int64(len(content))), content); err != nil {
		t.Fatal(err)
	}
	put(t, s, "r/obj", string(content))
	n := int64(len(content))
	for _, c := range []struct{ off, length, wantEnd int64 }{
		{0, 10, 10},
		{1000, 5000, 6000},
		{n - 7, -1, n},
		{n - 5, 100, n}, // runs past the end: cut short
		{0, -1, n},
	} {
		rc, err := s.OpenRange(ctx, "r/obj", c.off, c.length)
		if err != nil {
			t.Fatalf("OpenRange(%d, %d): %v", c.off, c.length, err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || !bytes.Equal(got, content[c.off:c.wantEnd]) {
			t.Errorf("OpenRange(%d, %d) read %d bytes (%v), want bytes %d..%d", c.off, c.length, len(got), err, c.off, c.wantEnd)
		}
	}
	if _, err := s.OpenRange(ctx, "missing/file", 0, 10); !errors.Is(err, repo.ErrNotFound) {
		t.Errorf("OpenRange(missing) error = %v, want ErrNotFound", err)
	}
}

func testDeleteAll(t *testing.T, s repo.Store) {
	ctx := context.Background()
	for _, n := range []string{"a/1", "a/b/2", "ab/3"} {
		put(t, s, n, n)
	}
	if err := s.DeleteAll(ctx, "a/"); err != nil {
		t.Fatal(err)
	}
	got, err := s.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Name != "ab/3" {
		t.Errorf("after DeleteAll(a/), List = %v; want only ab/3", got)
	}
	if err := s.DeleteAll(ctx, "nothing/"); err != nil {
		t.Errorf("DeleteAll of an empty folder: %v", err)
	}
}

func testFolders(t *testing.T, s repo.Store) {
	for _, n := range []string{"d/x/1", "d/x/2", "d/y/z/3", "d/file", "e/w/4"} {
		put(t, s, n, n)
	}
	got, err := s.Folders(context.Background(), "d/")
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	if !slices.Equal(got, []string{"x", "y"}) {
		t.Errorf("Folders(d/) = %v, want [x y]", got)
	}
}

// testCapabilities checks that FreeSpace and SpoolDir either work or say
// ErrUnsupported, and that a file prepared in the spool directory is
// stored intact.
func testCapabilities(t *testing.T, s repo.Store) {
	ctx := context.Background()
	if n, err := s.FreeSpace(ctx); err != nil && !errors.Is(err, repo.ErrUnsupported) || err == nil && n <= 0 {
		t.Errorf("FreeSpace = %d, %v; want a positive number or ErrUnsupported", n, err)
	}
	dir, err := s.SpoolDir(ctx)
	if errors.Is(err, repo.ErrUnsupported) {
		return
	}
	if err != nil {
		t.Fatalf("SpoolDir: %v", err)
	}
	f, err := os.CreateTemp(dir, ".tmp-storetest-*")
	if err != nil {
		t.Fatalf("SpoolDir %s is not writable: %v", dir, err)
	}
	defer func() { f.Close(); os.Remove(f.Name()) }()
	if _, err := f.WriteString("spooled"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "s/spooled", f); err != nil {
		t.Fatal(err)
	}
	if got := read(t, s, "s/spooled"); got != "spooled" {
		t.Errorf("read back %q, want %q", got, "spooled")
	}
}
