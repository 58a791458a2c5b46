package capture

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/klauspost/compress/zstd"
)

// Reasons of the gaps at the start of the log, which `milvault log` shows
// as where the log begins rather than as a loss.
const (
	ReasonBeforeCapture = "before capture started"
	ReasonPruned        = "pruned: older than every retained backup needs"
)

// Start reports whether g is where the log begins (before capture
// started, or pruned) rather than a loss inside it.
func (g Gap) Start() bool {
	return g.From == 0 && (g.Reason == ReasonBeforeCapture || g.Reason == ReasonPruned)
}

// logReader reads the log guard by guard, one decoded segment at a time,
// and collects the gaps it finds.
type logReader struct {
	st       Store
	dec      *zstd.Decoder
	q        Query
	guards   []*guardLog
	gaps     []Gap
	keep     func(Gap) bool // which gaps the caller wants
	segments int
}

// guardLog is one guard's segments, read in order.
type guardLog struct {
	id    string
	segs  []Segment // in seq order, those after the pruned prefix
	floor []uint64  // floor[i] is the lowest FirstTS of segs[i:]
	next  int
	mark  *pruneMark
	w     guardWalk
}

// guardWalk follows one guard's runs.
type guardWalk struct {
	seq      uint64
	last     uint64 // newest timestamp seen
	running  bool   // an Open record without its Close yet
	earliest uint64 // where the guard's coverage starts (MaxUint64: unknown)
}

// openLog lists the segments and prune marks of every guard.
func openLog(ctx context.Context, st Store, q Query, keep func(Gap) bool) (*logReader, error) {
	segs, err := ListSegments(ctx, st)
	if err != nil {
		return nil, err
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1))
	if err != nil {
		return nil, err
	}
	lr := &logReader{st: st, dec: dec, q: q, keep: keep}
	for i := 0; i < len(segs); {
		j := i
		for j < len(segs) && segs[j].Guard == segs[i].Guard {
			j++
		}
		g, err := lr.openGuard(ctx, segs[i].Guard, segs[i:j])
		if err != nil {
			dec.Close()
			return nil, err
		}
		lr.guards = append(lr.guards, g)
		i = j
	}
	return lr, nil
}

// openGuard prepares the walk over one guard's segments: after its pruned
// prefix, whose state the prune mark carries.
func (lr *logReader) openGuard(ctx context.Context, id string, segs []Segment) (*guardLog, error) {
	g := &guardLog{id: id, w: guardWalk{earliest: math.MaxUint64}}
	mark, err := readPruneMark(ctx, lr.st, id)
	if err != nil {
		return nil, err
	}
	if mark != nil {
		g.mark = mark
		g.w = guardWalk{seq: mark.Through, last: mark.Last, running: mark.Running, earliest: mark.Earliest}
		if to := mark.horizon(lr.q); to > 0 {
			lr.gap(Gap{From: 0, To: to, Reason: ReasonPruned})
		}
	}
	for _, s := range segs {
		if s.Seq > g.w.seq {
			g.segs = append(g.segs, s)
		}
	}
	g.floor = make([]uint64, len(g.segs))
	low := uint64(math.MaxUint64)
	for i := len(g.segs) - 1; i >= 0; i-- {
		low = min(low, g.segs[i].FirstTS)
		g.floor[i] = low
	}
	return g, nil
}

func (lr *logReader) close() { lr.dec.Close() }

func (lr *logReader) gap(g Gap) {
	if lr.keep(g) {
		lr.gaps = append(lr.gaps, g)
	}
}

// bound is the lowest timestamp the guard's unread segments may hold.
func (g *guardLog) bound() uint64 {
	if g.next >= len(g.segs) {
		return math.MaxUint64
	}
	return g.floor[g.next]
}

func (g *guardLog) done() bool { return g.next >= len(g.segs) }

// read decodes the guard's next segment; ok is false when it is unreadable
// (a gap is reported instead).
func (g *guardLog) read(ctx context.Context, lr *logReader) (s Segment, recs []Record, ok bool, err error) {
	s = g.segs[g.next]
	g.next++
	data, err := lr.st.ReadCaptureFile(ctx, s.Name)
	if err == nil {
		recs, err = decodeSegment(s.Name, data, lr.dec)
	}
	if err != nil {
		if ctx.Err() != nil {
			return s, nil, false, ctx.Err()
		}
		lr.gap(Gap{From: g.w.last, To: g.nextFirst(), Reason: fmt.Sprintf("segment %s unreadable: %v", s.Name, err)})
		g.w.seq = s.Seq
		return s, nil, false, nil
	}
	if s.Seq != g.w.seq+1 {
		lr.gap(Gap{From: g.w.last, To: s.FirstTS, Reason: fmt.Sprintf("segments %d to %d of guard %s are missing", g.w.seq+1, s.Seq-1, s.Guard)})
	}
	g.w.seq = s.Seq
	for _, r := range recs {
		g.record(r, lr)
	}
	lr.segments++
	return s, recs, true, nil
}

func (g *guardLog) nextFirst() uint64 {
	if g.next < len(g.segs) {
		return g.segs[g.next].FirstTS
	}
	return math.MaxUint64
}

func (g *guardLog) record(r Record, lr *logReader) {
	switch r.Kind {
	case KindOpen:
		if g.w.running {
			lr.gap(Gap{From: g.w.last, To: max(r.TS, g.w.last+1), Reason: "the guard stopped without closing its log (killed or crashed); writes acknowledged in its last commit interval may be missing"})
		}
		g.w.running = true
		g.w.earliest = min(g.w.earliest, r.Gap.From)
	case KindClose:
		g.w.running = false
	case KindGap:
		lr.gap(r.Gap)
	}
	g.w.last = max(g.w.last, r.TS)
}

// finish reports, once every segment is read, the guards whose log is
// still open although they stopped (see heartbeat) and the time before
// capture started.
func (lr *logReader) finish(ctx context.Context, now time.Time) error {
	earliest := uint64(math.MaxUint64)
	for _, g := range lr.guards {
		earliest = min(earliest, g.w.earliest)
		if !g.w.running {
			continue
		}
		gap, err := stoppedGap(ctx, lr.st, g.id, g.w.last, now)
		if err != nil {
			return err
		}
		if gap != nil {
			lr.gap(*gap)
		}
	}
	if earliest != math.MaxUint64 {
		lr.gap(Gap{From: 0, To: earliest, Reason: ReasonBeforeCapture})
	}
	return nil
}
