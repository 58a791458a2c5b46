package capture

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/milvault/milvault/repo"
)

// Store is where segments go: *repo.Repository implements it, so that the
// repository's encryption, checksums and retention apply.
type Store interface {
	PutCaptureFile(ctx context.Context, name string, data []byte) error
	// PutCaptureState rewrites a small state file (heartbeat, prune mark).
	PutCaptureState(ctx context.Context, name string, data []byte) error
	ReadCaptureFile(ctx context.Context, name string) ([]byte, error)
	ListCaptureFiles(ctx context.Context, prefix string) ([]repo.FileInfo, error)
}

var _ Store = (*repo.Repository)(nil)

// openMargin is how far before its Open record a run's coverage starts.
const openMargin = time.Second

// Defaults of Options.
const (
	DefaultCommitInterval = time.Second
	DefaultSegmentBytes   = 16 << 20
)

// Options configure a Writer.
type Options struct {
	// GuardID names the writer's folder; two running writers must never
	// share one (see ValidGuardID).
	GuardID string
	// CommitInterval is the longest a record waits to be committed
	// (DefaultCommitInterval when zero).
	CommitInterval time.Duration
	// SegmentBytes rolls a segment: pending records of this many bytes are
	// committed at once (DefaultSegmentBytes when zero).
	SegmentBytes int
	// Observer hears about commits and failures; nil means none.
	Observer Observer
	Now      func() time.Time
}

// Observer receives the writer's events (metrics).
type Observer interface {
	// Committed reports one segment written.
	Committed(records, bytes int, d time.Duration)
	// Lost reports a segment that could not be written: its records are
	// now a gap of the log.
	Lost(g Gap, err error)
}

// Writer appends records to the log. Create it with Open; Close it to
// commit the rest and mark a clean stop.
type Writer struct {
	st   Store
	opt  Options
	enc  *zstd.Encoder
	kick chan struct{}
	stop chan struct{}
	done chan struct{}

	mu      sync.Mutex
	batch   *batch
	gaps    []Record // gap records waiting for the next segment
	closed  bool
	seq     uint64
	commitM sync.Mutex // one commit at a time
}

// batch is the records of one future segment and the waiters' outcome.
type batch struct {
	recs  []Record
	bytes int
	done  chan struct{}
	err   error
}

func newBatch() *batch { return &batch{done: make(chan struct{})} }

// Ticket is a caller's handle on the commit of its record.
type Ticket struct{ b *batch }

// Wait returns when the segment holding the record is committed (nil) or
// could not be (its error), or when ctx ends.
func (t Ticket) Wait(ctx context.Context) error {
	select {
	case <-t.b.done:
		return t.b.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Open starts a writer: it finds the guard's last segment number and
// commits a segment holding an Open record, so that the start of capture
// (and a previous run that stopped without closing) is known to readers.
func Open(ctx context.Context, st Store, opt Options) (*Writer, error) {
	if err := ValidGuardID(opt.GuardID); err != nil {
		return nil, err
	}
	if opt.CommitInterval <= 0 {
		opt.CommitInterval = DefaultCommitInterval
	}
	if opt.SegmentBytes <= 0 {
		opt.SegmentBytes = DefaultSegmentBytes
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
	if err != nil {
		return nil, err
	}
	w := &Writer{st: st, opt: opt, enc: enc, batch: newBatch(), kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	if w.seq, err = lastSeq(ctx, st, opt.GuardID); err != nil {
		return nil, err
	}
	// Milvus's timestamp oracle may lag this host's clock: the log covers
	// writes from openMargin before the Open record on (nothing went
	// through this writer's guard before it opened).
	now := opt.Now()
	w.Append(Record{Kind: KindOpen, TS: HybridTS(now), Gap: Gap{From: HybridTS(now.Add(-openMargin))}})
	if err := w.commit(ctx); err != nil {
		return nil, fmt.Errorf("start the capture log: %w", err)
	}
	w.beat(ctx)
	go w.loop()
	return w, nil
}

// lastSeq returns the highest segment number of guard (0 when none).
func lastSeq(ctx context.Context, st Store, guard string) (uint64, error) {
	files, err := st.ListCaptureFiles(ctx, repo.CapturePrefix+guard+"/")
	if err != nil {
		return 0, err
	}
	var last uint64
	for _, f := range files {
		if s, ok := parseSegment(f); ok && s.Seq > last {
			last = s.Seq
		}
	}
	return last, nil
}

// ErrClosed is returned by Append after Close.
var ErrClosed = errors.New("capture log is closed")

// Append adds r to the pending segment and returns the ticket of its
// commit, which happens within the commit interval or at the next roll.
// After Close the ticket fails with ErrClosed.
func (w *Writer) Append(r Record) Ticket { return w.append(r, false) }

// AppendNow is Append for a caller that will wait: the pending records
// are committed as soon as the writer is free (group commit: records
// appended while a commit is in flight share the next one).
func (w *Writer) AppendNow(r Record) Ticket { return w.append(r, true) }

func (w *Writer) append(r Record, now bool) Ticket {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		b := newBatch()
		b.err = ErrClosed
		close(b.done)
		return Ticket{b}
	}
	b := w.batch
	b.recs = append(b.recs, r)
	b.bytes += r.size()
	if now || b.bytes >= w.opt.SegmentBytes {
		select {
		case w.kick <- struct{}{}:
		default:
		}
	}
	return Ticket{b}
}

// loop commits and beats (see heartbeat) every interval, and commits on
// each roll, until Close.
func (w *Writer) loop() {
	defer close(w.done)
	t := time.NewTicker(w.opt.CommitInterval)
	defer t.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-t.C:
			w.commit(context.Background())
			w.beat(context.Background())
			continue
		case <-w.kick:
		}
		w.commit(context.Background())
	}
}

// commit writes the pending records (after any gap records of failed
// commits) as the next segment and releases their waiters.
func (w *Writer) commit(ctx context.Context) error {
	w.commitM.Lock()
	defer w.commitM.Unlock()
	w.mu.Lock()
	b := w.batch
	if len(b.recs) == 0 && len(w.gaps) == 0 {
		w.mu.Unlock()
		return nil
	}
	w.batch = newBatch()
	gaps := w.gaps
	w.gaps = nil
	w.mu.Unlock()
	recs := append(gaps, b.recs...)
	start := time.Now()
	name := segmentName(w.opt.GuardID, firstTS(recs), w.seq+1)
	data := encodeSegment(recs, w.enc)
	err := w.st.PutCaptureFile(ctx, name, data)
	if err == nil {
		w.seq++
		if w.opt.Observer != nil {
			w.opt.Observer.Committed(len(recs), len(data), time.Since(start))
		}
	} else {
		err = fmt.Errorf("commit capture segment: %w", err)
		w.lost(gaps, b.recs, err)
	}
	b.err = err
	close(b.done)
	return err
}

// lost turns the records of a failed commit into one gap record (keeping
// the gap records that were to be written with them).
func (w *Writer) lost(gaps, recs []Record, err error) {
	g := Gap{Reason: "segment not committed: " + err.Error()}
	for _, r := range recs {
		if !r.Kind.IsWrite() {
			continue
		}
		g.Records++
		if g.From == 0 || r.TS-1 < g.From {
			g.From = r.TS - 1
		}
		if r.TS > g.To {
			g.To = r.TS
		}
	}
	if g.Records > 0 {
		gaps = append(gaps, Record{Kind: KindGap, TS: HybridTS(w.opt.Now()), Gap: g})
		if w.opt.Observer != nil {
			w.opt.Observer.Lost(g, err)
		}
	}
	w.mu.Lock()
	w.gaps = append(gaps, w.gaps...)
	w.mu.Unlock()
}

func firstTS(recs []Record) uint64 {
	var ts uint64
	for _, r := range recs {
		if r.TS != 0 && (ts == 0 || r.TS < ts) {
			ts = r.TS
		}
	}
	return ts
}

// Close commits what is pending with a Close record, which tells readers
// the writer stopped cleanly, and stops the writer.
func (w *Writer) Close(ctx context.Context) error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.mu.Unlock()
	w.Append(Record{Kind: KindClose, TS: HybridTS(w.opt.Now())})
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	close(w.stop)
	<-w.done
	err := w.commit(ctx)
	if err == nil && len(w.gaps) > 0 {
		err = w.commit(ctx) // gaps left by a failed commit just before
	}
	return err
}

// Pending reports the records and gaps not yet committed (for tests and
// health reports).
func (w *Writer) Pending() (records, gaps int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.batch.recs), len(w.gaps)
}
