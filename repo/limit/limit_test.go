package limit_test

import (
	"bytes"
	"context"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/faulty"
	"github.com/milvault/milvault/repo/limit"
	"github.com/milvault/milvault/repo/mem"
	"github.com/milvault/milvault/repo/storetest"
)

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) repo.Store {
		return limit.Wrap(mem.New(), limit.Options{Connections: 2, UploadBytesPerSec: 64 << 20, DownloadBytesPerSec: 64 << 20})
	})
}

// counting tracks how many calls are inside the store at once.
type counting struct {
	repo.Store
	in, peak atomic.Int32
}

func (c *counting) Stat(ctx context.Context, name string) (repo.FileInfo, error) {
	n := c.in.Add(1)
	defer c.in.Add(-1)
	for {
		p := c.peak.Load()
		if n <= p || c.peak.CompareAndSwap(p, n) {
			break
		}
	}
	time.Sleep(5 * time.Millisecond)
	return c.Store.Stat(ctx, name)
}

func TestConnections(t *testing.T) {
	for _, n := range []int{1, 3} {
		inner := &counting{Store: mem.New()}
		s := limit.New(inner, limit.Options{Connections: n})
		var wg sync.WaitGroup
		for range 20 {
			wg.Add(1)
			go func() { defer wg.Done(); s.Stat(context.Background(), "x") }()
		}
		wg.Wait()
		if got := inner.peak.Load(); got != int32(n) {
			t.Errorf("Connections %d: peak concurrency %d", n, got)
		}
	}
}

func TestBandwidth(t *testing.T) {
	const rate = 200 << 10
	inner := mem.New()
	s := limit.New(inner, limit.Options{UploadBytesPerSec: rate, DownloadBytesPerSec: rate})
	data := bytes.Repeat([]byte("x"), rate/2) // burst is rate/4, so the rest waits ~0.25 s
	start := time.Now()
	if err := s.Put(context.Background(), "f", bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 200*time.Millisecond || d > 2*time.Second {
		t.Errorf("upload of %d bytes at %d B/s took %s, want about 0.25 s", len(data), rate, d)
	}
	start = time.Now()
	rc, err := s.Open(context.Background(), "f")
	if err != nil {
		t.Fatal(err)
	}
	n, _ := io.Copy(io.Discard, rc)
	rc.Close()
	if d := time.Since(start); n != int64(len(data)) || d < 200*time.Millisecond {
		t.Errorf("download of %d bytes took %s, want about 0.25 s", n, d)
	}
}

func TestCancelledWhileWaitingForSlot(t *testing.T) {
	inner := faulty.New(mem.New(), 1, faulty.Rule{Kind: faulty.Delay, Delay: 200 * time.Millisecond, Probability: 1})
	s := limit.New(inner, limit.Options{Connections: 1})
	go s.Put(context.Background(), "slow", strings.NewReader("x"))
	time.Sleep(20 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := s.Stat(ctx, "slow"); err == nil {
		t.Error("Stat waiting for a slot ignored its context")
	}
}

func TestCountsDownloadedBytes(t *testing.T) {
	ctx := context.Background()
	inner := mem.New()
	if err := inner.Put(ctx, "f", bytes.NewReader(make([]byte, 1000))); err != nil {
		t.Fatal(err)
	}
	s := limit.New(inner, limit.Options{})
	rc, err := s.OpenRange(ctx, "f", 100, 500)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, rc)
	rc.Close()
	rc, err = s.Open(ctx, "f")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, rc)
	rc.Close()
	if got := s.Downloaded(); got != 1500 {
		t.Errorf("Downloaded = %d, want 1500 (a 500-byte range and a 1000-byte file)", got)
	}
}
