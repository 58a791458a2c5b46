package progress

import (
	"sync"
	"sync/atomic"
	"time"
)

// Snapshot is the state of one phase at one moment.
type Snapshot struct {
	Phase             string
	Rows, TotalRows   int64 // totals <= 0 mean unknown
	Bytes, TotalBytes int64
	Elapsed           time.Duration
	RowsPerSec        float64 // recent smoothed rate; the average once Ended
	BytesPerSec       float64
	ETA               time.Duration // meaningful only when ETAKnown
	ETAKnown          bool
	Ended             bool
}

// Fraction returns how much of the phase is done, in [0, 1], from rows when
// their total is known, else from bytes; ok is false when neither is.
func (s Snapshot) Fraction() (f float64, ok bool) {
	switch {
	case s.TotalRows > 0:
		return min(1, float64(s.Rows)/float64(s.TotalRows)), true
	case s.TotalBytes > 0:
		return min(1, float64(s.Bytes)/float64(s.TotalBytes)), true
	default:
		return 0, false
	}
}

// phase holds the counters of one phase; workers add to them without locks.
type phase struct {
	name                  string
	totalRows, totalBytes int64
	start                 time.Time
	rows, bytes           atomic.Int64
	final                 *Snapshot // set when the phase ends; guarded by Meter.mu
}

// reportable tells whether the phase is worth a final line: it was named, or
// work was counted before any Phase call.
func (p *phase) reportable() bool {
	return p.name != "" || p.rows.Load() != 0 || p.bytes.Load() != 0
}

// Meter is a Progress that only keeps count, for callers that poll its
// Snapshot (the server's job status) and for the renderers built on it.
// Notes are ignored. Rows and Bytes are lock-free.
type Meter struct {
	clock Clock
	cur   atomic.Pointer[phase]
	mu    sync.Mutex // guards est and phase.final
	est   estimator
}

var _ Progress = (*Meter)(nil)

// NewMeter returns a Meter timed by clock (RealClock when nil).
func NewMeter(clock Clock) *Meter {
	if clock == nil {
		clock = RealClock
	}
	m := &Meter{clock: clock}
	m.startPhase("", 0, 0)
	return m
}

// Phase ends the current phase and starts the named one.
func (m *Meter) Phase(name string, totalRows, totalBytes int64) {
	m.startPhase(name, totalRows, totalBytes)
}

// Rows adds n rows to the current phase.
func (m *Meter) Rows(n int64) { m.cur.Load().rows.Add(n) }

// Bytes adds n bytes to the current phase.
func (m *Meter) Bytes(n int64) { m.cur.Load().bytes.Add(n) }

// Note does nothing: a Meter keeps numbers, not messages.
func (m *Meter) Note(string) {}

// Done ends the current phase.
func (m *Meter) Done() { m.endPhase() }

// Snapshot returns the state of the current phase, frozen once it ended.
func (m *Meter) Snapshot() Snapshot {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.cur.Load()
	if p.final != nil {
		return *p.final
	}
	return m.live(p, m.clock.Now())
}

// startPhase swaps in a new phase and returns the final snapshot of the one
// it replaces; ok is false when that one was not worth reporting or had ended.
func (m *Meter) startPhase(name string, totalRows, totalBytes int64) (prev Snapshot, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.clock.Now()
	if old := m.cur.Load(); old != nil {
		prev, ok = m.end(old, now)
	}
	m.cur.Store(&phase{name: name, totalRows: totalRows, totalBytes: totalBytes, start: now})
	m.est.reset(now)
	return prev, ok
}

// endPhase ends the current phase; ok is false as startPhase's is.
func (m *Meter) endPhase() (final Snapshot, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.end(m.cur.Load(), m.clock.Now())
}

func (m *Meter) end(p *phase, now time.Time) (Snapshot, bool) {
	if p.final != nil || !p.reportable() {
		return Snapshot{}, false
	}
	s := p.counts(now)
	s.Ended, s.ETAKnown = true, s.TotalRows > 0 || s.TotalBytes > 0
	if secs := s.Elapsed.Seconds(); secs > 0 {
		s.RowsPerSec, s.BytesPerSec = float64(s.Rows)/secs, float64(s.Bytes)/secs
	}
	p.final = &s
	return s, true
}

func (m *Meter) live(p *phase, now time.Time) Snapshot {
	s := p.counts(now)
	m.est.observe(sample{at: now, rows: s.Rows, bytes: s.Bytes})
	s.RowsPerSec, s.BytesPerSec = m.est.rowRate, m.est.byteRate
	if s.TotalRows > 0 {
		s.ETA, s.ETAKnown = eta(s.Rows, s.TotalRows, s.RowsPerSec)
	} else {
		s.ETA, s.ETAKnown = eta(s.Bytes, s.TotalBytes, s.BytesPerSec)
	}
	return s
}

func (p *phase) counts(now time.Time) Snapshot {
	return Snapshot{
		Phase: p.name, Rows: p.rows.Load(), TotalRows: p.totalRows,
		Bytes: p.bytes.Load(), TotalBytes: p.totalBytes, Elapsed: now.Sub(p.start),
	}
}
