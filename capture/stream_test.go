package capture_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/milvault/milvault/capture"
	"github.com/milvault/milvault/repo"
)

// countingStore counts the segments read.
type countingStore struct {
	*repo.Repository
	mu    sync.Mutex
	reads int
}

func (s *countingStore) ReadCaptureFile(ctx context.Context, name string) ([]byte, error) {
	if strings.HasSuffix(name, ".log") {
		s.mu.Lock()
		s.reads++
		s.mu.Unlock()
	}
	return s.Repository.ReadCaptureFile(ctx, name)
}

func (s *countingStore) segmentsRead() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reads
}

// writeSegments commits, for each guard, segs segments of per records
// each; timestamps interleave across guards and, at every other segment
// boundary, the last record of a segment is newer than the first of the
// next (acknowledged out of order).
func writeSegments(t *testing.T, r *repo.Repository, guards []string, segs, per int) {
	t.Helper()
	ctx := context.Background()
	for k, id := range guards {
		w := open(t, r, capture.Options{GuardID: id})
		ts := make([]uint64, segs*per)
		for i := range ts {
			ts[i] = base + 1 + uint64(i*len(guards)+k)
		}
		for j := 1; j < segs; j += 2 {
			ts[j*per-1], ts[j*per] = ts[j*per], ts[j*per-1]
		}
		for j := 0; j < segs; j++ {
			var tk capture.Ticket
			for i := 0; i < per; i++ {
				n := j*per + i
				rec := write(capture.KindInsert, ts[n], "docs", fmt.Sprintf("%s-%d", id, n))
				if i == per-1 {
					tk = w.AppendNow(rec)
				} else {
					w.Append(rec)
				}
			}
			if err := tk.Wait(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

func TestStreamMergesInOrderWithBoundedMemory(t *testing.T) {
	ctx := context.Background()
	r, _ := newRepo(t, "mem")
	guards := []string{"g1", "g2", "g3"}
	const segs, per = 40, 25
	writeSegments(t, r, guards, segs, per)
	st := &countingStore{Repository: r}
	var last uint64
	n, readAtFirst := 0, -1
	seen := map[string]bool{}
	res, err := capture.Stream(ctx, st, capture.Query{Database: "default", Collection: "docs", From: base}, func(rec capture.Record) error {
		if readAtFirst < 0 {
			readAtFirst = st.segmentsRead()
		}
		if rec.TS < last {
			t.Fatalf("record %s at %d delivered after %d", rec.Request, rec.TS, last)
		}
		last = rec.TS
		seen[string(rec.Request)] = true
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	total := len(guards) * segs * per
	t.Logf("first record after %d segment reads; at most %d of %d records held", readAtFirst, res.MaxBuffered, total)
	if n != total || len(seen) != total || res.Delivered != total {
		t.Errorf("delivered %d records (%d distinct, result says %d), want %d", n, len(seen), res.Delivered, total)
	}
	if res.Segments != len(guards)*(segs+2) {
		t.Errorf("read %d segments, want %d (open, data, close)", res.Segments, len(guards)*(segs+2))
	}
	// Each guard's open segment, then at most two data segments per guard.
	if readAtFirst > 3*len(guards) {
		t.Errorf("%d segments were read before the first record was delivered, want at most %d", readAtFirst, 3*len(guards))
	}
	if limit := 2 * len(guards) * per; res.MaxBuffered > limit || res.MaxBuffered == 0 {
		t.Errorf("held up to %d records at once, want 1 to %d (two segments per guard) of %d", res.MaxBuffered, limit, total)
	}
	if len(res.Gaps) != 0 {
		t.Errorf("gaps = %+v, want none", res.Gaps)
	}
}

func TestStreamStopsOnCallbackError(t *testing.T) {
	ctx := context.Background()
	r, _ := newRepo(t, "mem")
	writeSegments(t, r, []string{"g1"}, 4, 5)
	stop := fmt.Errorf("stop here")
	n := 0
	_, err := capture.Stream(ctx, r, capture.Query{From: base}, func(capture.Record) error {
		n++
		if n == 7 {
			return stop
		}
		return nil
	})
	if err != stop || n != 7 {
		t.Errorf("got %v after %d records, want the callback's error after 7", err, n)
	}
}
