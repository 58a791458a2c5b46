// Package progress reports how far a long backup or restore has come.
//
// The core declares what happens through the Progress interface: a sequence
// of named phases, each with rows and bytes done against optional totals,
// plus informational notes. Renderers decide how it looks: NewTerminal
// redraws one line per phase on a TTY, NewLines writes plain log lines,
// NewJSON writes one JSON object per line, and Meter keeps the numbers for
// callers (such as the server's job status) that poll instead of print.
//
// Output is advisory: renderers ignore write errors, because a full log disk
// or a closed terminal must not fail the backup it describes.
package progress

import (
	"io"
	"os"
	"time"

	"golang.org/x/term"
)

// Progress receives events from a long operation. Implementations are safe
// for concurrent use (several worker goroutines call Rows and Bytes at once)
// and never block the caller for long.
type Progress interface {
	// Phase starts a new named step (e.g. "backup default.docs", "verify
	// checksums") with its expected totals; a total <= 0 means unknown.
	// It ends the previous phase.
	Phase(name string, totalRows, totalBytes int64)
	// Rows records n more rows done in the current phase.
	Rows(n int64)
	// Bytes records n more bytes done in the current phase.
	Bytes(n int64)
	// Note reports an informational line, e.g. "flushed".
	Note(msg string)
	// Done reports that the whole operation finished; renderers flush their
	// last line and release their resources. Done must be called once the
	// operation ends, also on failure; calling it again does nothing.
	Done()
}

// Nop is a Progress that does nothing.
var Nop Progress = nop{}

type nop struct{}

func (nop) Phase(string, int64, int64) {}
func (nop) Rows(int64)                 {}
func (nop) Bytes(int64)                {}
func (nop) Note(string)                {}
func (nop) Done()                      {}

// Clock tells the time; tests replace it to make rates and ETAs exact.
type Clock interface {
	Now() time.Time
}

// RealClock is the Clock of the wall.
var RealClock Clock = realClock{}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

// linesEvery is how often ForWriter's line renderer logs a running phase.
const linesEvery = 10 * time.Second

// ForWriter picks a renderer for w using the real clock: JSON when jsonMode
// is set (an explicit request wins even on a terminal), a redrawn line when w
// is an *os.File connected to a terminal, else a plain log line every 10s.
func ForWriter(w io.Writer, jsonMode bool) Progress {
	switch {
	case jsonMode:
		return NewJSON(w, RealClock)
	case isTerminal(w):
		return NewTerminal(w, RealClock)
	default:
		return NewLines(w, RealClock, linesEvery)
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// termWidth returns the width of the terminal behind w, or 0 when unknown.
func termWidth(w io.Writer) int {
	f, ok := w.(*os.File)
	if !ok {
		return 0
	}
	width, _, err := term.GetSize(int(f.Fd()))
	if err != nil {
		return 0
	}
	return width
}

// BytesWriter returns a writer that counts what is written to it as bytes
// done on p and discards it (for io.MultiWriter and hashing writers).
func BytesWriter(p Progress) io.Writer { return bytesWriter{p} }

type bytesWriter struct{ p Progress }

func (w bytesWriter) Write(b []byte) (int, error) {
	w.p.Bytes(int64(len(b)))
	return len(b), nil
}
