package repo_test

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/milvault/milvault/checksum"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/mem"
)

// TestEncryptedRandomReads: the seekable decryption under the read window
// returns the plaintext at any offset, as the Parquet reader asks for it,
// with one ranged store read per window rather than per 64 KiB chunk.
func TestEncryptedRandomReads(t *testing.T) {
	ctx := context.Background()
	s := &rangeCounter{Store: mem.New()}
	r, err := repo.InitEncrypted(ctx, s, repo.KeySpec{Passphrase: "pw", ScryptWorkFactor: 10})
	if err != nil {
		t.Fatal(err)
	}
	plain := make([]byte, 9<<20+12345)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range plain {
		plain[i] = byte(rng.Uint32())
	}
	fw, err := r.CreateFile(ctx, "data/b1/x", checksum.SHA256, "")
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(plain)
	f, err := fw.Commit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s.ranges = 0
	pr, err := repo.OpenPlain(ctx, r, f.Path)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 200; i++ {
		off := rng.Int64N(int64(len(plain)))
		n := rng.Int64N(300_000)
		got := make([]byte, n)
		k, err := pr.ReadAt(got, off)
		want := plain[off:min(off+n, int64(len(plain)))]
		if k != len(want) || !bytes.Equal(got[:k], want) || (k < len(got) && err != io.EOF) {
			t.Fatalf("ReadAt(%d bytes at %d) = %d, %v; want %d bytes", n, off, k, err, len(want))
		}
	}
	if s.ranges > 220 {
		t.Errorf("%d ranged reads for 200 random reads: the window is not used", s.ranges)
	}
	all, err := io.ReadAll(pr)
	if err != nil || !bytes.Equal(all, plain) {
		t.Fatalf("sequential read: %d bytes, %v", len(all), err)
	}
}

// rangeCounter counts ranged reads.
type rangeCounter struct {
	repo.Store
	ranges int
}

func (c *rangeCounter) OpenRange(ctx context.Context, name string, off, n int64) (io.ReadCloser, error) {
	c.ranges++
	return c.Store.OpenRange(ctx, name, off, n)
}
