package progress

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

const (
	// redrawEvery caps redraws at about 8 per second: faster is flicker.
	redrawEvery = 125 * time.Millisecond
	barWidth    = 24
	clearEOL    = "\x1b[K"
)

// terminal renders each phase as one line redrawn in place.
type terminal struct {
	w       io.Writer
	clock   Clock
	meter   *Meter
	width   int // of the terminal in columns; 0 when unknown
	tick    throttle
	mu      sync.Mutex // serializes writes; guards active
	active  bool       // a live line is on screen
	once    sync.Once
	stop    chan struct{}
	stopped chan struct{}
}

// NewTerminal returns a Progress for a TTY: one line per phase, redrawn with
// \r and clear-to-end-of-line, showing the phase name, a bar when a total is
// known, rows and bytes done with their rates, and the ETA. A redraw happens
// on events and on a ticker, at most about 8 times per second. When a phase
// ends its final line, with totals and elapsed time, stays on screen. Notes
// print on their own line above the live one. Done stops the ticker
// goroutine, so it must be called.
func NewTerminal(w io.Writer, clock Clock) Progress {
	if clock == nil {
		clock = RealClock
	}
	t := &terminal{
		w: w, clock: clock, meter: NewMeter(clock), width: termWidth(w),
		tick: throttle{every: redrawEvery}, stop: make(chan struct{}), stopped: make(chan struct{}),
	}
	go t.tickLoop()
	return t
}

func (t *terminal) Phase(name string, totalRows, totalBytes int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if prev, ok := t.meter.startPhase(name, totalRows, totalBytes); ok {
		t.finish(prev)
	}
	t.tick.reset(t.clock.Now())
	t.active = true
	t.draw()
}

func (t *terminal) Rows(n int64)  { t.meter.Rows(n); t.redraw() }
func (t *terminal) Bytes(n int64) { t.meter.Bytes(n); t.redraw() }

func (t *terminal) Note(msg string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	io.WriteString(t.w, "\r"+plain(msg)+clearEOL+"\n")
	if t.active {
		t.draw()
	}
}

func (t *terminal) Done() {
	t.once.Do(func() {
		close(t.stop)
		<-t.stopped // outside mu: the ticker may be waiting for it
	})
	t.mu.Lock()
	defer t.mu.Unlock()
	if final, ok := t.meter.endPhase(); ok {
		t.finish(final)
	} else if t.active {
		io.WriteString(t.w, "\r"+clearEOL)
	}
	t.active = false
}

func (t *terminal) tickLoop() {
	defer close(t.stopped)
	ticker := time.NewTicker(redrawEvery)
	defer ticker.Stop()
	for {
		select {
		case <-t.stop:
			return
		case <-ticker.C:
			t.redraw()
		}
	}
}

// redraw draws the live line when a redraw is due.
func (t *terminal) redraw() {
	if !t.tick.allow(t.clock.Now()) {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.active {
		t.draw()
	}
}

// draw writes the live line; t.mu must be held.
func (t *terminal) draw() {
	io.WriteString(t.w, "\r"+fit(liveLine(t.meter.Snapshot()), t.width)+clearEOL)
}

// finish replaces the live line with the phase's final one; t.mu must be held.
func (t *terminal) finish(s Snapshot) {
	io.WriteString(t.w, "\r"+plain(label(s))+": "+summary(s)+clearEOL+"\n")
	t.active = false
}

func liveLine(s Snapshot) string {
	f := []string{plain(label(s))}
	if b := bar(s); b != "" {
		f = append(f, b)
	}
	return strings.Join(append(f, liveFields(s)...), "  ")
}

// bar draws "[=========>              ]  37%" for a phase with a known total.
func bar(s Snapshot) string {
	frac, ok := s.Fraction()
	if !ok {
		return ""
	}
	n := int(frac * barWidth)
	head := ""
	if n < barWidth {
		head = ">"
	}
	fill := strings.Repeat("=", n) + head + strings.Repeat(" ", barWidth-n-len(head))
	return fmt.Sprintf("[%s] %3d%%", fill, int(frac*100))
}

// fit cuts line to fit width columns, so that \r can still redraw it: a
// wrapped line cannot be taken back. It counts runes, not display cells.
func fit(line string, width int) string {
	r := []rune(line)
	if width <= 0 || len(r) < width {
		return line
	}
	return string(r[:width-1])
}
