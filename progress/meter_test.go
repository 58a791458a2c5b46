package progress

import (
	"bytes"
	"io"
	"sync"
	"testing"
	"time"
)

func TestMeterSnapshot(t *testing.T) {
	tests := []struct {
		name                  string
		totalRows, totalBytes int64
		rows, bytes           int64
		after                 time.Duration
		want                  Snapshot
	}{
		{"rows known", 1000, 0, 100, 0, time.Second,
			Snapshot{Rows: 100, TotalRows: 1000, RowsPerSec: 100, ETA: 9 * time.Second, ETAKnown: true}},
		{"bytes known", 0, 4 << 20, 0, 1 << 20, 2 * time.Second,
			Snapshot{Bytes: 1 << 20, TotalBytes: 4 << 20, BytesPerSec: 1 << 19, ETA: 6 * time.Second, ETAKnown: true}},
		{"rows win over bytes", 10, 1 << 20, 5, 1 << 10, time.Second,
			Snapshot{Rows: 5, TotalRows: 10, Bytes: 1 << 10, TotalBytes: 1 << 20, RowsPerSec: 5, BytesPerSec: 1 << 10, ETA: time.Second, ETAKnown: true}},
		{"totals unknown", 0, 0, 300, 0, 3 * time.Second,
			Snapshot{Rows: 300, RowsPerSec: 100}},
		{"no time passed", 100, 0, 50, 0, 0,
			Snapshot{Rows: 50, TotalRows: 100}},
	}
	for _, tt := range tests {
		clock := newFakeClock()
		m := NewMeter(clock)
		m.Phase("p", tt.totalRows, tt.totalBytes)
		clock.Advance(tt.after)
		m.Rows(tt.rows)
		m.Bytes(tt.bytes)
		want := tt.want
		want.Phase, want.Elapsed = "p", tt.after
		if got := m.Snapshot(); got != want {
			t.Errorf("%s:\n got %+v\nwant %+v", tt.name, got, want)
		}
	}
}

func TestMeterEndedPhaseIsFrozen(t *testing.T) {
	clock := newFakeClock()
	m := NewMeter(clock)
	m.Phase("p", 0, 0)
	clock.Advance(4 * time.Second)
	m.Rows(1000)
	m.Done()
	clock.Advance(time.Hour)
	m.Rows(1)
	want := Snapshot{Phase: "p", Rows: 1000, Elapsed: 4 * time.Second, RowsPerSec: 250, Ended: true}
	if got := m.Snapshot(); got != want {
		t.Errorf("after Done:\n got %+v\nwant %+v", got, want)
	}
}

func TestFraction(t *testing.T) {
	tests := []struct {
		s      Snapshot
		want   float64
		wantOK bool
	}{
		{Snapshot{Rows: 5}, 0, false},
		{Snapshot{Rows: 25, TotalRows: 100, Bytes: 90, TotalBytes: 100}, 0.25, true},
		{Snapshot{Bytes: 30, TotalBytes: 120}, 0.25, true},
		{Snapshot{Rows: 150, TotalRows: 100}, 1, true},
	}
	for _, tt := range tests {
		if got, ok := tt.s.Fraction(); got != tt.want || ok != tt.wantOK {
			t.Errorf("%+v.Fraction() = %v, %v; want %v, %v", tt.s, got, ok, tt.want, tt.wantOK)
		}
	}
}

// lockedBuffer lets tests read what a renderer wrote while it still runs.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestConcurrentCountsAddUp hammers every implementation from 8 goroutines
// while the clock moves, so that renderers draw in the middle of it; run
// with -race.
func TestConcurrentCountsAddUp(t *testing.T) {
	const workers, calls = 8, 2000
	renderers := map[string]func(io.Writer, Clock) Progress{
		"terminal": NewTerminal,
		"lines":    func(w io.Writer, c Clock) Progress { return NewLines(w, c, time.Second) },
		"json":     NewJSON,
	}
	for name, newRenderer := range renderers {
		clock := newFakeClock()
		m := NewMeter(clock)
		p := Tee(m, newRenderer(io.Discard, clock))
		p.Phase(name, workers*calls, 0)
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				for i := range calls {
					p.Rows(1)
					p.Bytes(int64(w + 1))
					if i%100 == 0 {
						clock.Advance(50 * time.Millisecond)
					}
				}
			})
		}
		wg.Wait()
		p.Done()
		for _, s := range []Snapshot{m.Snapshot(), meterOf(t, p.(tee)[1]).Snapshot()} {
			if want := int64(workers * calls); s.Rows != want {
				t.Errorf("%s: rows = %d, want %d", name, s.Rows, want)
			}
			if want := int64(calls * workers * (workers + 1) / 2); s.Bytes != want {
				t.Errorf("%s: bytes = %d, want %d", name, s.Bytes, want)
			}
		}
	}
}

func meterOf(t *testing.T, p Progress) *Meter {
	t.Helper()
	switch r := p.(type) {
	case *terminal:
		return r.meter
	case *lines:
		return r.meter
	case *jsonLines:
		return r.meter
	}
	t.Fatalf("no meter in %T", p)
	return nil
}
