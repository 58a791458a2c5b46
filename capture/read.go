package capture

import (
	"container/heap"
	"context"
	"math"
	"sort"
	"time"

	"github.com/milvault/milvault/repo"
)

// Query selects records: those of one collection (both names empty: all)
// with From < TS <= To (To 0: no upper bound).
type Query struct {
	Database, Collection string
	From, To             uint64
	// Now is the reader's clock, which judges whether a guard whose log is
	// still open is alive (see the heartbeat); nil means time.Now.
	Now func() time.Time
}

func (q Query) now() time.Time {
	if q.Now == nil {
		return time.Now()
	}
	return q.Now()
}

// matches reports whether r is a write of q's collection.
func (q Query) matches(r Record) bool {
	return (q.Collection == "" || r.Collection == q.Collection) && (q.Database == "" || r.Database == q.Database)
}

// Result is what Read or Stream found.
type Result struct {
	// Records are the matching writes in timestamp order (Read only).
	Records []Record
	// Gaps are the stretches overlapping (From, To] whose writes may be
	// missing from the log, by start.
	Gaps []Gap
	// Segments is the number of segments read.
	Segments int
	// Delivered is the number of records Stream delivered.
	Delivered int
	// MaxBuffered is the most records Stream held at once: those of the
	// segments whose time ranges overlap, not the whole log.
	MaxBuffered int
}

// ListSegments returns the committed segments of every guard, by guard
// and number.
func ListSegments(ctx context.Context, st Store) ([]Segment, error) {
	files, err := st.ListCaptureFiles(ctx, repo.CapturePrefix)
	if err != nil {
		return nil, err
	}
	var segs []Segment
	for _, f := range files {
		if s, ok := parseSegment(f); ok {
			segs = append(segs, s)
		}
	}
	sort.Slice(segs, func(i, j int) bool {
		if segs[i].Guard != segs[j].Guard {
			return segs[i].Guard < segs[j].Guard
		}
		return segs[i].Seq < segs[j].Seq
	})
	return segs, nil
}

// visitor hears about every readable segment of a walk.
type visitor interface {
	segment(s Segment, recs []Record)
}

// walk reads every segment, guard by guard in order, and reports its
// records to v; it returns the gaps that keep accepts.
func walk(ctx context.Context, st Store, q Query, keep func(Gap) bool, v visitor) ([]Gap, error) {
	lr, err := openLog(ctx, st, q, keep)
	if err != nil {
		return nil, err
	}
	defer lr.close()
	for _, g := range lr.guards {
		for !g.done() {
			s, recs, ok, err := g.read(ctx, lr)
			if err != nil {
				return nil, err
			}
			if ok {
				v.segment(s, recs)
			}
		}
	}
	if err := lr.finish(ctx, q.now()); err != nil {
		return nil, err
	}
	return lr.gaps, nil
}

// Read returns the records and gaps of q, all in memory: for small
// results (tests, tools); a replay uses Stream.
func Read(ctx context.Context, st Store, q Query) (*Result, error) {
	var recs []Record
	res, err := Stream(ctx, st, q, func(r Record) error {
		recs = append(recs, r)
		return nil
	})
	if err != nil {
		return nil, err
	}
	res.Records = recs
	return res, nil
}

// Stream delivers the records of q to fn in timestamp order and returns
// the gaps that overlap q's range once the log is read (a caller that must
// refuse a gapped log before acting streams twice: once to count, once to
// act). The guards' segment lists are merged: a segment is decoded only
// when the next record to deliver could be in it (its first timestamp is
// not later), so that memory holds the records of the segments whose time
// ranges overlap, one or two per guard, never the whole log. An error from
// fn stops the stream and is returned.
func Stream(ctx context.Context, st Store, q Query, fn func(Record) error) (*Result, error) {
	if q.To == 0 {
		q.To = math.MaxUint64
	}
	lr, err := openLog(ctx, st, q, func(g Gap) bool { return g.To > q.From && g.From < q.To })
	if err != nil {
		return nil, err
	}
	defer lr.close()
	res := &Result{}
	h := &recordHeap{}
	var order uint64
	for {
		g, bound := lr.lowest()
		for h.Len() > 0 && (*h)[0].rec.TS <= bound {
			if err := fn(heap.Pop(h).(pending).rec); err != nil {
				return nil, err
			}
			res.Delivered++
		}
		if g == nil {
			break
		}
		_, recs, _, err := g.read(ctx, lr)
		if err != nil {
			return nil, err
		}
		for _, r := range recs {
			if r.Kind.IsWrite() && r.TS > q.From && r.TS <= q.To && q.matches(r) {
				order++
				heap.Push(h, pending{rec: r, order: order})
			}
		}
		res.MaxBuffered = max(res.MaxBuffered, h.Len())
	}
	if err := lr.finish(ctx, q.now()); err != nil {
		return nil, err
	}
	res.Gaps, res.Segments = lr.gaps, lr.segments
	sort.SliceStable(res.Gaps, func(i, j int) bool { return res.Gaps[i].From < res.Gaps[j].From })
	return res, nil
}

// lowest returns the guard whose unread segments may hold the lowest
// timestamp, and that timestamp (nil and MaxUint64 when all are read).
func (lr *logReader) lowest() (*guardLog, uint64) {
	var best *guardLog
	bound := uint64(math.MaxUint64)
	for _, g := range lr.guards {
		if !g.done() && (best == nil || g.bound() < bound) {
			best, bound = g, g.bound()
		}
	}
	return best, bound
}

// pending is a decoded record waiting for its turn; order keeps records
// of equal timestamps in the order they were read.
type pending struct {
	rec   Record
	order uint64
}

// recordHeap is a min-heap of records by timestamp.
type recordHeap []pending

func (h recordHeap) Len() int { return len(h) }
func (h recordHeap) Less(i, j int) bool {
	if h[i].rec.TS != h[j].rec.TS {
		return h[i].rec.TS < h[j].rec.TS
	}
	return h[i].order < h[j].order
}
func (h recordHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *recordHeap) Push(x any)   { *h = append(*h, x.(pending)) }
func (h *recordHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	old[len(old)-1] = pending{}
	*h = old[:len(old)-1]
	return x
}
