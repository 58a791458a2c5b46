package capture

import (
	"context"
	"fmt"
	"math"
	"sort"

	"github.com/klauspost/compress/zstd"

	"github.com/milvault/milvault/repo"
)

// Query selects records: those of one collection (both names empty: all)
// with From < TS <= To.
type Query struct {
	Database, Collection string
	From, To             uint64
}

// Result is what Read found.
type Result struct {
	// Records are the matching writes in timestamp order.
	Records []Record
	// Gaps are the stretches overlapping (From, To] whose writes may be
	// missing from the log.
	Gaps []Gap
	// Segments is the number of segments read.
	Segments int
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

// visit is what the walk over one guard's segments reports.
type visitor interface {
	segment(s Segment, recs []Record)
	gap(g Gap)
}

// walk reads every segment in order and reports its records and the gaps
// found between them: missing or damaged segments, runs that stopped
// without a Close record, and recorded gaps.
func walk(ctx context.Context, st Store, v visitor) error {
	segs, err := ListSegments(ctx, st)
	if err != nil {
		return err
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1))
	if err != nil {
		return err
	}
	defer dec.Close()
	var earliest uint64 = math.MaxUint64
	w := guardWalk{}
	for i, s := range segs {
		if i == 0 || segs[i-1].Guard != s.Guard {
			w = guardWalk{}
		}
		data, err := st.ReadCaptureFile(ctx, s.Name)
		var recs []Record
		if err == nil {
			recs, err = decodeSegment(s.Name, data, dec)
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			v.gap(Gap{From: w.last, To: nextFirst(segs, i), Reason: fmt.Sprintf("segment %s unreadable: %v", s.Name, err)})
			w.seq = s.Seq
			continue
		}
		if w.seq != 0 && s.Seq != w.seq+1 {
			v.gap(Gap{From: w.last, To: s.FirstTS, Reason: fmt.Sprintf("segments %d to %d of guard %s are missing", w.seq+1, s.Seq-1, s.Guard)})
		}
		w.seq = s.Seq
		for _, r := range recs {
			earliest = w.record(r, v, earliest)
		}
		v.segment(s, recs)
	}
	if earliest != math.MaxUint64 {
		v.gap(Gap{From: 0, To: earliest, Reason: "before capture started"})
	}
	return nil
}

// guardWalk follows one guard's segments.
type guardWalk struct {
	seq     uint64
	last    uint64 // newest timestamp seen
	running bool   // an Open record without its Close yet
}

func (w *guardWalk) record(r Record, v visitor, earliest uint64) uint64 {
	switch r.Kind {
	case KindOpen:
		if w.running {
			v.gap(Gap{From: w.last, To: max(r.TS, w.last+1), Reason: "the guard stopped without closing its log (killed or crashed); writes acknowledged in its last commit interval may be missing"})
		}
		w.running = true
		earliest = min(earliest, r.Gap.From)
	case KindClose:
		w.running = false
	case KindGap:
		v.gap(r.Gap)
	}
	w.last = max(w.last, r.TS)
	return earliest
}

func nextFirst(segs []Segment, i int) uint64 {
	if i+1 < len(segs) && segs[i+1].Guard == segs[i].Guard {
		return segs[i+1].FirstTS
	}
	return math.MaxUint64
}

// Read returns the records and gaps of q.
func Read(ctx context.Context, st Store, q Query) (*Result, error) {
	if q.To == 0 {
		q.To = math.MaxUint64
	}
	c := &collector{q: q, res: &Result{}}
	if err := walk(ctx, st, c); err != nil {
		return nil, err
	}
	// Concurrent writes are acknowledged, and so appended, in any order.
	sort.SliceStable(c.res.Records, func(i, j int) bool { return c.res.Records[i].TS < c.res.Records[j].TS })
	sort.SliceStable(c.res.Gaps, func(i, j int) bool { return c.res.Gaps[i].From < c.res.Gaps[j].From })
	return c.res, nil
}

type collector struct {
	q   Query
	res *Result
}

func (c *collector) segment(_ Segment, recs []Record) {
	c.res.Segments++
	for _, r := range recs {
		if r.Kind.IsWrite() && r.TS > c.q.From && r.TS <= c.q.To && c.matches(r) {
			c.res.Records = append(c.res.Records, r)
		}
	}
}

func (c *collector) matches(r Record) bool {
	return (c.q.Collection == "" || r.Collection == c.q.Collection) && (c.q.Database == "" || r.Database == c.q.Database)
}

func (c *collector) gap(g Gap) {
	if g.To > c.q.From && g.From < c.q.To {
		c.res.Gaps = append(c.res.Gaps, g)
	}
}
