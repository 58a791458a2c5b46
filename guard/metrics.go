package guard

import (
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/status"
)

// Metrics are the guard's prometheus metrics.
type Metrics struct {
	calls      *prometheus.CounterVec
	seconds    *prometheus.HistogramVec
	intercepts *prometheus.CounterVec
}

// NewMetrics registers the guard's metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "milvault_guard_calls_total", Help: "Calls through the guard by method and gRPC code.",
		}, []string{"method", "code"}),
		seconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "milvault_guard_call_seconds", Help: "Duration of calls through the guard (Milvus's time included).",
			Buckets: prometheus.ExponentialBuckets(0.0005, 4, 10),
		}, []string{"method"}),
		intercepts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "milvault_guard_intercepted_total", Help: "Drops the guard handled, by method and action (trash, backup, refuse, allow, failed).",
		}, []string{"method", "action"}),
	}
	reg.MustRegister(m.calls, m.seconds, m.intercepts)
	return m
}

func (m *Metrics) call(method string, err error, d time.Duration) {
	if m == nil {
		return
	}
	name := method[strings.LastIndexByte(method, '/')+1:]
	m.calls.WithLabelValues(name, status.Code(err).String()).Inc()
	m.seconds.WithLabelValues(name).Observe(d.Seconds())
}

func (m *Metrics) intercepted(method, action string) {
	if m != nil {
		m.intercepts.WithLabelValues(method, action).Inc()
	}
}

func (g *Guard) logger() *slog.Logger {
	if g.cfg.Logger == nil {
		return slog.Default()
	}
	return g.cfg.Logger
}

// HTTPHandler serves /healthz (200 while the upstream connection is not
// shut down) and /metrics from gatherer.
func (g *Guard) HTTPHandler(gatherer prometheus.Gatherer) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		state := g.cfg.Upstream.GetState()
		if state == connectivity.Shutdown || state == connectivity.TransientFailure {
			http.Error(w, "upstream "+g.cfg.UpstreamAddress+": "+state.String(), http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ok\n"))
	})
	mux.Handle("/metrics", promhttp.HandlerFor(gatherer, promhttp.HandlerOpts{}))
	return mux
}
