// Package storetest is the contract every repo.Store must pass. Each backend
// calls Run from its own tests.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/milvault/milvault/repo"
)

// Run checks the guarantees documented on repo.Store. newStore must return an
// empty store.
func Run(t *testing.T, newStore func(t *testing.T) repo.Store) {
	t.Run("PutOpenRoundTrip", func(t *testing.T) { testRoundTrip(t, newStore(t)) })
	t.Run("NotFound", func(t *testing.T) { testNotFound(t, newStore(t)) })
	t.Run("ListPrefixSorted", func(t *testing.T) { testList(t, newStore(t)) })
	t.Run("FailedPutLeavesNothing", func(t *testing.T) { testFailedPut(t, newStore(t)) })
	t.Run("Overwrite", func(t *testing.T) { testOverwrite(t, newStore(t)) })
	t.Run("DeleteMissingSucceeds", func(t *testing.T) { testDelete(t, newStore(t)) })
	t.Run("LargeStreamed", func(t *testing.T) { testLarge(t, newStore(t)) })
	t.Run("FailedLargePutLeavesNothing", func(t *testing.T) { testFailedLargePut(t, newStore(t)) })
	t.Run("CancelledPutLeavesNothing", func(t *testing.T) { testCancelledPut(t, newStore(t)) })
	t.Run("ListManyPages", func(t *testing.T) { testListMany(t, newStore(t)) })
	t.Run("OpenRange", func(t *testing.T) { testOpenRange(t, newStore(t)) })
	t.Run("DeleteAll", func(t *testing.T) { testDeleteAll(t, newStore(t)) })
	t.Run("Folders", func(t *testing.T) { testFolders(t, newStore(t)) })
	t.Run("Capabilities", func(t *testing.T) { testCapabilities(t, newStore(t)) })
}

func put(t *testing.T, s repo.Store, name, content string) {
	t.Helper()
	if err := s.Put(context.Background(), name, strings.NewReader(content)); err != nil {
		t.Fatalf("Put(%s): %v", name, err)
	}
}

func read(t *testing.T, s repo.Store, name string) string {
	t.Helper()
	rc, err := s.Open(context.Background(), name)
	if err != nil {
		t.Fatalf("Open(%s): %v", name, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return string(b)
}

func testRoundTrip(t *testing.T, s repo.Store) {
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16)
	put(t, s, "a/b/c.bin", string(big))
	if got := read(t, s, "a/b/c.bin"); got != string(big) {
		t.Fatalf("read back %d bytes, want %d", len(got), len(big))
	}
	fi, err := s.Stat(context.Background(), "a/b/c.bin")
	if err != nil || fi.Size != int64(len(big)) || fi.Name != "a/b/c.bin" {
		t.Fatalf("Stat = %+v, %v; want size %d", fi, err, len(big))
	}
}

func testNotFound(t *testing.T, s repo.Store) {
	ctx := context.Background()
	if _, err := s.Open(ctx, "missing/file"); !errors.Is(err, repo.ErrNotFound) {
		t.Errorf("Open(missing) error = %v, want ErrNotFound", err)
	}
	if _, err := s.Stat(ctx, "missing/file"); !errors.Is(err, repo.ErrNotFound) {
		t.Errorf("Stat(missing) error = %v, want ErrNotFound", err)
	}
	if got, err := s.List(ctx, "missing/"); err != nil || len(got) != 0 {
		t.Errorf("List(missing/) = %v, %v; want empty", got, err)
	}
}

func testList(t *testing.T, s repo.Store) {
	for _, n := range []string{"x/2", "x/1", "x/sub/3", "y/1", "xz"} {
		put(t, s, n, n)
	}
	got, err := s.List(context.Background(), "x/")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, fi := range got {
		names = append(names, fi.Name)
	}
	if want := "x/1,x/2,x/sub/3"; strings.Join(names, ",") != want {
		t.Errorf("List(x/) = %v, want %s", names, want)
	}
}

func testFailedPut(t *testing.T, s repo.Store) {
	r := io.MultiReader(strings.NewReader("partial"), iotest.ErrReader(errors.New("boom")))
	if err := s.Put(context.Background(), "f/half", r); err == nil {
		t.Fatal("Put with failing reader succeeded")
	}
	if _, err := s.Stat(context.Background(), "f/half"); !errors.Is(err, repo.ErrNotFound) {
		t.Errorf("after failed Put, Stat error = %v, want ErrNotFound", err)
	}
	if got, _ := s.List(context.Background(), "f/"); len(got) != 0 {
		t.Errorf("after failed Put, List = %v, want empty", got)
	}
}

func testOverwrite(t *testing.T, s repo.Store) {
	put(t, s, "o", "first")
	put(t, s, "o", "second")
	if got := read(t, s, "o"); got != "second" {
		t.Errorf("after overwrite read %q, want second", got)
	}
}

func testDelete(t *testing.T, s repo.Store) {
	ctx := context.Background()
	put(t, s, "d/1", "x")
	if err := s.Delete(ctx, "d/1"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "d/1"); err != nil {
		t.Errorf("second Delete = %v, want nil", err)
	}
	if _, err := s.Stat(ctx, "d/1"); !errors.Is(err, repo.ErrNotFound) {
		t.Errorf("Stat after Delete = %v, want ErrNotFound", err)
	}
}
