package progress

import (
	"io"
	"strings"
	"sync"
	"time"
)

// lines renders progress as plain log lines.
type lines struct {
	w     io.Writer
	clock Clock
	meter *Meter
	tick  throttle
	mu    sync.Mutex // serializes writes
}

// NewLines returns a Progress for log files and pipes: a line when a phase
// starts, a line at most every `every` while it runs (written by the Rows or
// Bytes call that finds it due, so a stalled phase stays quiet), a line with
// totals and elapsed time when it ends, and a line per note. Every line
// starts with the time and holds no control characters.
func NewLines(w io.Writer, clock Clock, every time.Duration) Progress {
	if clock == nil {
		clock = RealClock
	}
	if every <= 0 {
		every = linesEvery
	}
	return &lines{w: w, clock: clock, meter: NewMeter(clock), tick: throttle{every: every}}
}

func (l *lines) Phase(name string, totalRows, totalBytes int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if prev, ok := l.meter.startPhase(name, totalRows, totalBytes); ok {
		l.print(label(prev) + ": " + summary(prev))
	}
	l.tick.reset(l.clock.Now())
	l.print(label(Snapshot{Phase: name}) + ": started" + expected(totalRows, totalBytes))
}

func (l *lines) Rows(n int64)  { l.meter.Rows(n); l.report() }
func (l *lines) Bytes(n int64) { l.meter.Bytes(n); l.report() }

func (l *lines) Note(msg string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.print(msg)
}

func (l *lines) Done() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if final, ok := l.meter.endPhase(); ok {
		l.print(label(final) + ": " + summary(final))
	}
}

// report writes a running line when one is due.
func (l *lines) report() {
	if !l.tick.allow(l.clock.Now()) {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if s := l.meter.Snapshot(); !s.Ended {
		l.print(label(s) + ": " + strings.Join(liveFields(s), ", "))
	}
}

func (l *lines) print(msg string) {
	io.WriteString(l.w, l.clock.Now().Format(time.RFC3339)+" "+plain(msg)+"\n")
}

// expected describes a phase's totals, " (1,000 rows, 1.5 MiB expected)",
// or returns "" when none is known.
func expected(totalRows, totalBytes int64) string {
	var f []string
	if totalRows > 0 {
		f = append(f, HumanCount(totalRows)+" rows")
	}
	if totalBytes > 0 {
		f = append(f, HumanBytes(totalBytes))
	}
	if len(f) == 0 {
		return ""
	}
	return " (" + strings.Join(f, ", ") + " expected)"
}

// label names a phase, also the unnamed one counted before any Phase call.
func label(s Snapshot) string {
	if s.Phase == "" {
		return "progress"
	}
	return s.Phase
}
