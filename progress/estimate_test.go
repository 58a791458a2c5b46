package progress

import (
	"math"
	"testing"
	"time"
)

func TestETA(t *testing.T) {
	tests := []struct {
		name        string
		done, total int64
		rate        float64
		want        time.Duration
		wantOK      bool
	}{
		{"unknown total", 10, 0, 5, 0, false},
		{"negative total", 10, -1, 5, 0, false},
		{"no rate yet", 10, 100, 0, 0, false},
		{"half way", 500, 1000, 100, 5 * time.Second, true},
		{"fractional", 0, 10, 4, 2500 * time.Millisecond, true},
		{"finished", 1000, 1000, 0, 0, true},
		{"overshot", 1200, 1000, 50, 0, true},
	}
	for _, tt := range tests {
		got, ok := eta(tt.done, tt.total, tt.rate)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("%s: eta(%d, %d, %v) = %v, %v; want %v, %v",
				tt.name, tt.done, tt.total, tt.rate, got, ok, tt.want, tt.wantOK)
		}
	}
}

// feed observes steps of (seconds later, rows per second over that step).
func feed(e *estimator, start time.Time, steps [][2]float64) {
	now, rows := start, 0.0
	for _, s := range steps {
		now = now.Add(time.Duration(s[0] * float64(time.Second)))
		rows += s[0] * s[1]
		e.observe(sample{at: now, rows: int64(rows), bytes: int64(rows * 10)})
	}
}

func TestEstimatorRate(t *testing.T) {
	repeat := func(n int, step [2]float64) [][2]float64 {
		s := make([][2]float64, n)
		for i := range s {
			s[i] = step
		}
		return s
	}
	tests := []struct {
		name      string
		steps     [][2]float64
		lo, hi    float64 // bounds of the row rate
		wantKnown bool
	}{
		{"no sample", nil, 0, 0, false},
		{"too soon", [][2]float64{{0.05, 100}}, 0, 0, false},
		{"first sample", [][2]float64{{1, 100}}, 100, 100, true},
		{"steady", repeat(50, [2]float64{0.5, 100}), 100, 100, true},
		{"speeds up: smoothed between", append(repeat(40, [2]float64{0.5, 100}), [2]float64{0.5, 300}), 100.1, 105, true},
		{"speeds up: window forgets", append(repeat(40, [2]float64{0.5, 100}), repeat(60, [2]float64{0.5, 300})...), 299, 300, true},
	}
	for _, tt := range tests {
		var e estimator
		start := time.Unix(1000, 0)
		e.reset(start)
		feed(&e, start, tt.steps)
		if e.known != tt.wantKnown || e.rowRate < tt.lo || e.rowRate > tt.hi {
			t.Errorf("%s: rate %v (known %v), want in [%v, %v] (known %v)",
				tt.name, e.rowRate, e.known, tt.lo, tt.hi, tt.wantKnown)
		}
		if math.Abs(e.byteRate-10*e.rowRate) > 1e-6*e.byteRate+1 {
			t.Errorf("%s: byte rate %v, want 10 × row rate %v", tt.name, e.byteRate, e.rowRate)
		}
	}
}

func TestEstimatorKeepsOnlyTheWindow(t *testing.T) {
	var e estimator
	start := time.Unix(1000, 0)
	e.reset(start)
	for i := 1; i <= 10000; i++ {
		e.observe(sample{at: start.Add(time.Duration(i) * minSampleGap), rows: int64(i)})
	}
	if max := int(rateWindow/minSampleGap) + 2; len(e.samples) > max {
		t.Errorf("kept %d samples, want at most %d", len(e.samples), max)
	}
	if span := e.samples[len(e.samples)-1].at.Sub(e.samples[0].at); span < rateWindow {
		t.Errorf("window spans %v, want at least %v", span, rateWindow)
	}
}
