package progress

import (
	"bytes"
	"strings"
	"testing"
	"time"
	"unicode"
)

func TestLines(t *testing.T) {
	clock := newFakeClock()
	var buf bytes.Buffer
	p := NewLines(&buf, clock, 10*time.Second)
	p.Phase("backup default.docs", 1000, 0)
	clock.Advance(5 * time.Second)
	p.Rows(100) // not due yet: no line
	clock.Advance(5 * time.Second)
	p.Rows(100)
	p.Note("flushed\nindex\x1b[2J")
	clock.Advance(10 * time.Second)
	p.Rows(800)
	p.Bytes(3 << 20)
	p.Done()
	p.Done()

	want := []string{
		"2026-03-14T15:09:26Z backup default.docs: started (1,000 rows expected)",
		"2026-03-14T15:09:36Z backup default.docs: 200/1,000 rows, 20 rows/s, ETA 40s",
		"2026-03-14T15:09:36Z flushed index [2J",
		// 800 rows in the last 10s, smoothed with the 20 rows/s before.
		"2026-03-14T15:09:46Z backup default.docs: 1,000/1,000 rows, 78 rows/s, ETA 0.0s",
		"2026-03-14T15:09:46Z backup default.docs: 1,000 rows, 3.0 MiB in 20s (50 rows/s, 153.6 KiB/s)",
	}
	checkLines(t, buf.String(), want)
}

func TestLinesPhases(t *testing.T) {
	clock := newFakeClock()
	var buf bytes.Buffer
	p := NewLines(&buf, clock, time.Second)
	p.Rows(5) // before any phase: reported as "progress"
	p.Phase("verify checksums", 0, 2<<30)
	clock.Advance(2 * time.Second)
	p.Bytes(1 << 30)
	p.Phase("cleanup", 0, 0)
	clock.Advance(time.Second)
	p.Done()

	want := []string{
		"2026-03-14T15:09:26Z progress: 5 rows, 0 rows/s, ETA --",
		"2026-03-14T15:09:26Z progress: 5 rows in 0.0s (0 rows/s)",
		"2026-03-14T15:09:26Z verify checksums: started (2.0 GiB expected)",
		"2026-03-14T15:09:28Z verify checksums: 1.0 GiB/2.0 GiB, 512.0 MiB/s, ETA 2.0s",
		"2026-03-14T15:09:28Z verify checksums: 1.0 GiB in 2.0s (512.0 MiB/s)",
		"2026-03-14T15:09:28Z cleanup: started",
		"2026-03-14T15:09:29Z cleanup: done in 1.0s",
	}
	checkLines(t, buf.String(), want)
}

// checkLines compares output line by line and checks it is plain text.
func checkLines(t *testing.T, out string, want []string) {
	t.Helper()
	if !strings.HasSuffix(out, "\n") {
		t.Errorf("output does not end with a newline: %q", out)
	}
	got := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	for i := range max(len(got), len(want)) {
		var g, w string
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if g != w {
			t.Errorf("line %d:\n got %q\nwant %q", i+1, g, w)
		}
		if strings.ContainsFunc(g, unicode.IsControl) {
			t.Errorf("line %d has control characters: %q", i+1, g)
		}
	}
}
