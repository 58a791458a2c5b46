package guard

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/milvault/milvault/capture"
)

// CaptureMetrics are the capture log's prometheus metrics; it is the
// capture.Observer of the guard's writer.
type CaptureMetrics struct {
	records, segments, lostRecords, gaps prometheus.Counter
	gapOpen, lastCommit                  prometheus.Gauge
	seconds                              prometheus.Histogram
	now                                  func() time.Time
}

var _ capture.Observer = (*CaptureMetrics)(nil)

// NewCaptureMetrics registers the capture metrics with reg.
func NewCaptureMetrics(reg prometheus.Registerer) *CaptureMetrics {
	m := &CaptureMetrics{
		records:     prometheus.NewCounter(prometheus.CounterOpts{Name: "milvault_guard_capture_records_total", Help: "Records committed to the capture log (writes and markers)."}),
		segments:    prometheus.NewCounter(prometheus.CounterOpts{Name: "milvault_guard_capture_segments_total", Help: "Segments committed to the capture log."}),
		lostRecords: prometheus.NewCounter(prometheus.CounterOpts{Name: "milvault_guard_capture_lost_records_total", Help: "Acknowledged writes that could not be captured (recorded as gaps)."}),
		gaps:        prometheus.NewCounter(prometheus.CounterOpts{Name: "milvault_guard_capture_gaps_total", Help: "Failed segment commits, each a gap of the capture log."}),
		gapOpen:     prometheus.NewGauge(prometheus.GaugeOpts{Name: "milvault_guard_capture_failing", Help: "1 after a failed segment commit of the capture log until the next commit succeeds, else 0."}),
		lastCommit:  prometheus.NewGauge(prometheus.GaugeOpts{Name: "milvault_guard_capture_last_commit_timestamp_seconds", Help: "Unix time of the last committed segment."}),
		seconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "milvault_guard_capture_commit_seconds", Help: "Duration of segment commits.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 8)}),
		now: time.Now,
	}
	reg.MustRegister(m.records, m.segments, m.lostRecords, m.gaps, m.gapOpen, m.lastCommit, m.seconds)
	return m
}

// Committed counts a committed segment.
func (m *CaptureMetrics) Committed(records, _ int, d time.Duration) {
	m.records.Add(float64(records))
	m.segments.Inc()
	m.seconds.Observe(d.Seconds())
	m.gapOpen.Set(0)
	m.lastCommit.Set(float64(m.now().UnixNano()) / 1e9)
}

// Lost counts a failed commit.
func (m *CaptureMetrics) Lost(g capture.Gap, _ error) {
	m.lostRecords.Add(float64(g.Records))
	m.gaps.Inc()
	m.gapOpen.Set(1)
}
