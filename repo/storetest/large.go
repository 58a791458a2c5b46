package storetest

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"testing/iotest"

	"golang.org/x/sync/errgroup"

	"github.com/milvault/milvault/repo"
)

// largeSize is bigger than the part size of object-store multipart uploads
// (5-16 MiB), and not a multiple of it, so the last part is short.
const largeSize = 20<<20 + 12345

// listMany is more than one page of an object-store listing (S3 and Azure
// return 1,000 keys per page, GCS 1,000 by default).
const listMany = 1010

// noise returns a reproducible stream of n pseudo-random bytes that is
// computed as it is read, never held in memory. It can seek, so wrappers
// that replay a Put (retry) can replay it.
func noise(seed uint64, n int64) io.ReadSeeker {
	return io.NewSectionReader(noiseAt(seed), 0, n)
}

// noiseAt is an endless pseudo-random file: byte i depends only on the
// seed and i.
type noiseAt uint64

func (s noiseAt) ReadAt(p []byte, off int64) (int, error) {
	for i := range p {
		w := uint64(off+int64(i)) / 8
		p[i] = byte(splitmix(uint64(s)^w) >> (8 * ((uint64(off) + uint64(i)) % 8)))
	}
	return len(p), nil
}

// splitmix is the SplitMix64 finaliser, a cheap well-mixed hash.
func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

func sha(t *testing.T, r io.Reader) (string, int64) {
	t.Helper()
	h := sha256.New()
	n, err := io.Copy(h, r)
	if err != nil {
		t.Fatalf("hash stream: %v", err)
	}
	return fmt.Sprintf("%x", h.Sum(nil)), n
}

func testLarge(t *testing.T, s repo.Store) {
	ctx := context.Background()
	if err := s.Put(ctx, "big/obj", noise(1, largeSize)); err != nil {
		t.Fatalf("Put of %d bytes: %v", largeSize, err)
	}
	want, _ := sha(t, noise(1, largeSize))
	rc, err := s.Open(ctx, "big/obj")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	got, n := sha(t, rc)
	if n != largeSize || got != want {
		t.Errorf("read back %d bytes with sha256 %s, want %d bytes with %s", n, got, int64(largeSize), want)
	}
}

func testFailedLargePut(t *testing.T, s repo.Store) {
	r := io.MultiReader(noise(2, largeSize), iotest.ErrReader(errors.New("source broke")))
	if err := s.Put(context.Background(), "f/big", r); err == nil {
		t.Fatal("Put with a reader failing after 20 MiB succeeded")
	}
	assertAbsent(t, s, "f/big")
}

// cancelAfter cancels a context once n bytes have been read through it,
// then keeps producing data, as a Put interrupted by Ctrl-C would see.
type cancelAfter struct {
	r      io.Reader
	n      int64
	cancel context.CancelFunc
	once   sync.Once
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if c.n -= int64(n); c.n <= 0 {
		c.once.Do(c.cancel)
	}
	return n, err
}

func testCancelledPut(t *testing.T, s repo.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := &cancelAfter{r: noise(3, largeSize), n: 12 << 20, cancel: cancel}
	if err := s.Put(ctx, "c/big", r); err == nil {
		t.Fatal("Put whose context was cancelled half-way succeeded")
	}
	assertAbsent(t, s, "c/big")
}

func assertAbsent(t *testing.T, s repo.Store, name string) {
	t.Helper()
	ctx := context.Background()
	if _, err := s.Stat(ctx, name); !errors.Is(err, repo.ErrNotFound) {
		t.Errorf("Stat(%s) error = %v, want ErrNotFound", name, err)
	}
	dir := name[:strings.LastIndex(name, "/")+1]
	if got, err := s.List(ctx, dir); err != nil || len(got) != 0 {
		t.Errorf("List(%s) = %v, %v; want empty", dir, got, err)
	}
}

func testListMany(t *testing.T, s repo.Store) {
	g, ctx := errgroup.WithContext(context.Background())
	g.SetLimit(16)
	for i := range listMany {
		g.Go(func() error {
			return s.Put(ctx, fmt.Sprintf("many/%05d", i), strings.NewReader("x"))
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	got, err := s.List(context.Background(), "many/")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != listMany {
		t.Fatalf("List(many/) returned %d files, want %d", len(got), listMany)
	}
	for i, fi := range got {
		if want := fmt.Sprintf("many/%05d", i); fi.Name != want || fi.Size != 1 {
			t.Fatalf("List(many/)[%d] = %+v, want %s of 1 byte", i, fi, want)
		}
	}
}
