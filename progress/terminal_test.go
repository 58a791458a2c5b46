package progress

import (
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestTerminalFinishedPhase(t *testing.T) {
	clock := newFakeClock()
	buf := &lockedBuffer{}
	p := NewTerminal(buf, clock)
	p.Phase("backup default.docs", 1000, 0)
	clock.Advance(20 * time.Second)
	p.Rows(1000)
	p.Bytes(3 << 20)
	p.Phase("verify checksums", 0, 0)
	clock.Advance(1500 * time.Millisecond)
	p.Done()
	p.Done()

	out := buf.String()
	for _, want := range []string{
		"\rbackup default.docs: 1,000 rows, 3.0 MiB in 20s (50 rows/s, 153.6 KiB/s)\x1b[K\n",
		"\rverify checksums: done in 1.5s\x1b[K\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks final line %q:\n%q", want, out)
		}
	}
	if !strings.HasSuffix(out, "\n") {
		t.Errorf("output does not end with a newline: %q", out)
	}
}

func TestTerminalNoteAboveLiveLine(t *testing.T) {
	clock := newFakeClock()
	buf := &lockedBuffer{}
	p := NewTerminal(buf, clock)
	defer p.Done()
	p.Phase("restore", 10, 0)
	p.Note("created index\non vec")
	want := "\rcreated index on vec\x1b[K\n\rrestore  [>                       ]   0%  0/10 rows  0 rows/s  ETA --\x1b[K"
	if out := buf.String(); !strings.Contains(out, want) {
		t.Errorf("output lacks note then live line %q:\n%q", want, out)
	}
}

func TestTerminalTickerRedraws(t *testing.T) {
	clock := newFakeClock()
	buf := &lockedBuffer{}
	p := NewTerminal(buf, clock)
	defer p.Done()
	p.Phase("backup", 100, 0)
	p.Rows(10) // not drawn: the phase line was drawn at this instant
	clock.Advance(time.Second)
	want := "\rbackup  [==>                     ]  10%  10/100 rows  10 rows/s  ETA 9.0s\x1b[K"
	for range 500 { // the ticker fires every 125ms of real time
		if strings.Contains(buf.String(), want) {
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Errorf("no redraw %q by the ticker:\n%q", want, buf.String())
}

func TestTerminalDoneStopsTicker(t *testing.T) {
	base := runtime.NumGoroutine()
	var ts []*terminal
	for range 10 {
		ts = append(ts, NewTerminal(&lockedBuffer{}, newFakeClock()).(*terminal))
	}
	for _, tr := range ts {
		tr.Done()
		select {
		case <-tr.stopped:
		default:
			t.Fatal("Done returned before the ticker goroutine stopped")
		}
	}
	// A goroutine that closed stopped may still be on its way out.
	for i := 0; runtime.NumGoroutine() > base; i++ {
		if i == 500 {
			t.Fatalf("%d goroutines after Done, want %d", runtime.NumGoroutine(), base)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestTerminalDoneWithoutPhaseWritesNothing(t *testing.T) {
	buf := &lockedBuffer{}
	p := NewTerminal(buf, newFakeClock())
	p.Done()
	if out := buf.String(); out != "" {
		t.Errorf("output = %q, want none", out)
	}
}

func TestLiveLine(t *testing.T) {
	tests := []struct {
		s    Snapshot
		want string
	}{
		{Snapshot{Phase: "flush"}, "flush  ETA --"},
		{Snapshot{Phase: "scan", Rows: 1500, RowsPerSec: 2100}, "scan  1,500 rows  2.1k rows/s  ETA --"},
		{Snapshot{Phase: "upload", Bytes: 3 << 20, TotalBytes: 12 << 20, BytesPerSec: 1 << 20, ETA: 9 * time.Second, ETAKnown: true},
			"upload  [======>                 ]  25%  3.0 MiB/12.0 MiB  1.0 MiB/s  ETA 9.0s"},
		{Snapshot{Phase: "a\x1b[2Jb", Rows: 10, TotalRows: 10, ETAKnown: true},
			"a [2Jb  [========================] 100%  10/10 rows  0 rows/s  ETA 0.0s"},
	}
	for _, tt := range tests {
		if got := liveLine(tt.s); got != tt.want {
			t.Errorf("liveLine(%+v)\n got %q\nwant %q", tt.s, got, tt.want)
		}
	}
}

func TestFit(t *testing.T) {
	tests := []struct {
		line  string
		width int
		want  string
	}{
		{"abcdef", 0, "abcdef"},
		{"abcdef", 7, "abcdef"},
		{"abcdef", 6, "abcde"}, // the last column stays free so the cursor does not wrap
		{"añbc", 3, "añ"},
	}
	for _, tt := range tests {
		if got := fit(tt.line, tt.width); got != tt.want {
			t.Errorf("fit(%q, %d) = %q, want %q", tt.line, tt.width, got, tt.want)
		}
	}
}
