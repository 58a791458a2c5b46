package progress

import (
	"math"
	"time"
)

const (
	// rateWindow is how far back the rate looks: long enough to average
	// out bursty batches, short enough to follow a real slowdown.
	rateWindow = 10 * time.Second
	// rateSmoothing is the time constant of the moving average laid over
	// the windowed rate, so that the ETA does not jump at every batch.
	rateSmoothing = 3 * time.Second
	// minSampleGap bounds the samples kept per window whoever polls.
	minSampleGap = 100 * time.Millisecond
)

type sample struct {
	at          time.Time
	rows, bytes int64
}

// estimator turns counter samples into smoothed rows/s and bytes/s. It is
// not safe for concurrent use; Meter guards it.
type estimator struct {
	samples           []sample
	rowRate, byteRate float64
	known             bool // rates hold at least one measurement
}

func (e *estimator) reset(now time.Time) {
	e.samples = append(e.samples[:0], sample{at: now})
	e.rowRate, e.byteRate, e.known = 0, 0, false
}

// observe adds a sample and updates the rates; samples that come too soon
// after the previous one are dropped.
func (e *estimator) observe(s sample) {
	last := e.samples[len(e.samples)-1]
	dt := s.at.Sub(last.at)
	if dt < minSampleGap {
		return
	}
	e.samples = append(e.samples, s)
	e.trim(s.at)
	first := e.samples[0]
	span := s.at.Sub(first.at).Seconds()
	e.smooth(float64(s.rows-first.rows)/span, float64(s.bytes-first.bytes)/span, dt)
}

// trim drops samples older than the window but keeps the newest of those,
// so the span measured is at least the window once there is enough history.
func (e *estimator) trim(now time.Time) {
	cut := 0
	for cut+2 < len(e.samples) && !e.samples[cut+1].at.After(now.Add(-rateWindow)) {
		cut++
	}
	e.samples = append(e.samples[:0], e.samples[cut:]...)
}

// smooth folds the windowed rates into an exponential moving average whose
// weight depends on the time passed, not on how often observe is called.
func (e *estimator) smooth(rows, bytes float64, dt time.Duration) {
	if !e.known {
		e.rowRate, e.byteRate, e.known = rows, bytes, true
		return
	}
	alpha := 1 - math.Exp(-dt.Seconds()/rateSmoothing.Seconds())
	e.rowRate += alpha * (rows - e.rowRate)
	e.byteRate += alpha * (bytes - e.byteRate)
}

// eta estimates the time to get from done to total at rate per second; ok
// is false when the total or the rate is unknown.
func eta(done, total int64, rate float64) (d time.Duration, ok bool) {
	if total <= 0 {
		return 0, false
	}
	if done >= total {
		return 0, true
	}
	if rate <= 0 {
		return 0, false
	}
	return time.Duration(float64(total-done) / rate * float64(time.Second)), true
}
