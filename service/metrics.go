package service

import (
	"encoding/json"
	"runtime"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/milvault/milvault/drill"
	"github.com/milvault/milvault/jobs"
	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/repo"
)

// Metrics are the Prometheus metrics of the service, registered on the
// registry passed to New (never the global one).
type Metrics struct {
	lastSuccess  *prometheus.GaugeVec
	lastVerified *prometheus.GaugeVec
	runs         *prometheus.CounterVec
	duration     *prometheus.HistogramVec
	size         *prometheus.GaugeVec
	rows         *prometheus.GaugeVec
	drillRTO     *prometheus.GaugeVec
	nextRun      *prometheus.GaugeVec
	rpo          *prometheus.GaugeVec
	buildInfo    *prometheus.GaugeVec
	failing      *prometheus.GaugeVec
	drillOK      *prometheus.GaugeVec
	drillMaxRTO  *prometheus.GaugeVec
}

func newMetrics(reg prometheus.Registerer, version string) (*Metrics, error) {
	pc := []string{"policy", "database", "collection"}
	m := &Metrics{
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "milvault_backup_last_success_timestamp_seconds",
			Help: "When the newest good backup of the collection by the policy started (Unix time)."}, pc),
		lastVerified: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "milvault_backup_last_verified_timestamp_seconds",
			Help: "When a backup of the collection by the policy was last verified successfully (Unix time)."}, pc),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "milvault_job_runs_total",
			Help: "Jobs finished, by kind, policy and result (succeeded, failed, cancelled, interrupted)."}, []string{"kind", "policy", "result"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "milvault_job_duration_seconds",
			Help:    "How long finished jobs ran.",
			Buckets: prometheus.ExponentialBuckets(1, 3, 10)}, []string{"kind", "policy"}),
		size: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "milvault_backup_size_bytes",
			Help: "Stored bytes of the policy's newest backup."}, []string{"policy"}),
		rows: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "milvault_backup_rows",
			Help: "Rows in the policy's newest backup."}, []string{"policy"}),
		drillRTO: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "milvault_drill_rto_seconds",
			Help: "Time to a loaded, searchable collection measured by the newest drill of the policy's backups."}, []string{"policy"}),
		nextRun: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "milvault_policy_next_run_timestamp_seconds",
			Help: "When the policy runs next (Unix time)."}, []string{"policy"}),
		rpo: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "milvault_policy_rpo_seconds",
			Help: "The policy's recovery point objective: how old its newest good backup may get."}, []string{"policy"}),
		failing: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "milvault_policy_consecutive_failures",
			Help: "Runs of the policy that did not succeed since its last successful run (from the job history)."}, []string{"policy"}),
		drillOK: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "milvault_drill_ok",
			Help: "1 when the newest drill of the policy's backups passed, 0 when it failed."}, []string{"policy"}),
		drillMaxRTO: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "milvault_drill_max_rto_seconds",
			Help: "The maximum RTO the policy's newest drill was held to (0: none)."}, []string{"policy"}),
		buildInfo: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "milvault_build_info",
			Help: "Always 1; the labels say which milvault runs."}, []string{"version", "goversion"}),
	}
	for _, c := range []prometheus.Collector{m.lastSuccess, m.lastVerified, m.runs, m.duration, m.size, m.rows, m.drillRTO, m.nextRun, m.rpo, m.buildInfo, m.failing, m.drillOK, m.drillMaxRTO} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	m.buildInfo.WithLabelValues(version, runtime.Version()).Set(1)
	return m, nil
}

func unix(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// jobFinished counts a finished job.
func (m *Metrics) jobFinished(j jobs.Job) {
	m.runs.WithLabelValues(string(j.Kind), j.Policy, string(j.State)).Inc()
	if j.Policy != "" && j.Kind == jobs.KindBackup {
		if j.State == jobs.StateSucceeded {
			m.failing.WithLabelValues(j.Policy).Set(0)
		} else {
			m.failing.WithLabelValues(j.Policy).Inc()
		}
	}
	if !j.StartedAt.IsZero() {
		m.duration.WithLabelValues(string(j.Kind), j.Policy).Observe(j.Duration(j.FinishedAt).Seconds())
	}
}

// backupCommitted records the size of a new backup of policy.
func (m *Metrics) backupCommitted(policy string, b *manifest.Manifest) {
	m.size.WithLabelValues(policy).Set(float64(b.TotalBytes()))
	m.rows.WithLabelValues(policy).Set(float64(b.TotalRows()))
}

// backupGood records a committed backup that passed its verification (v
// is nil when the policy does not verify).
func (m *Metrics) backupGood(policy string, b *manifest.Manifest, v *VerifyResult) {
	m.setLast(m.lastSuccess, policy, b, b.CreatedAt)
	if v != nil && v.OK {
		m.setLast(m.lastVerified, policy, b, time.Now())
	}
}

// setLast raises g for each collection of b to at (it never goes back).
func (m *Metrics) setLast(g *prometheus.GaugeVec, policy string, b *manifest.Manifest, at time.Time) {
	for _, c := range b.Collections {
		m.raise(g.WithLabelValues(policy, c.Database, c.Name), unix(at))
	}
}

func (m *Metrics) raise(g prometheus.Gauge, v float64) {
	var cur float64
	if mv := readGauge(g); mv != nil {
		cur = *mv
	}
	if v > cur {
		g.Set(v)
	}
}

func readGauge(g prometheus.Gauge) *float64 {
	var d dto.Metric
	if err := g.Write(&d); err != nil || d.Gauge == nil {
		return nil
	}
	v := d.Gauge.GetValue()
	return &v
}

// restore sets the "last" metrics of policy from what its repository
// holds: the newest backup of each selected collection, the newest
// successful verification and drill of those backups. It is what makes a
// restart report the truth at once instead of "never backed up".
func (m *Metrics) restore(policy string, pol PolicyConfig, backups []*manifest.Manifest, proofs map[string][]repo.Proof) {
	var newest *manifest.Manifest
	var drillAt time.Time
	for _, b := range backups {
		if !selects(pol, b) {
			continue
		}
		if newest == nil || b.CreatedAt.After(newest.CreatedAt) {
			newest = b
		}
		for _, p := range proofs[b.ID] {
			if p.Kind == repo.ProofDrill && p.At.After(drillAt) {
				drillAt = p.At
				m.drillProof(policy, p)
			}
		}
		m.restoreBackup(policy, pol, b, proofs[b.ID])
	}
	if newest != nil {
		m.backupCommitted(policy, newest)
	}
}

// restoreBackup raises the last-success and last-verified metrics of the
// selected collections of b: a committed backup is a success unless its
// newest verification failed, any successful proof (verification or drill)
// a verification.
func (m *Metrics) restoreBackup(policy string, pol PolicyConfig, b *manifest.Manifest, ps []repo.Proof) {
	if damaged(ps) {
		return
	}
	for _, c := range b.Collections {
		if !selectsCollection(pol, c) {
			continue
		}
		m.raise(m.lastSuccess.WithLabelValues(policy, c.Database, c.Name), unix(b.CreatedAt))
		for _, p := range ps {
			if p.OK {
				m.raise(m.lastVerified.WithLabelValues(policy, c.Database, c.Name), unix(p.At))
			}
		}
	}
}

// damaged reports whether the newest verification among ps (oldest first)
// failed.
func damaged(ps []repo.Proof) bool {
	for i := len(ps) - 1; i >= 0; i-- {
		if ps[i].Kind != repo.ProofDrill {
			return !ps[i].OK
		}
	}
	return false
}

// selects reports whether backup b holds a collection the policy backs up.
func selects(pol PolicyConfig, b *manifest.Manifest) bool {
	for _, c := range b.Collections {
		if selectsCollection(pol, c) {
			return true
		}
	}
	return false
}

func selectsCollection(pol PolicyConfig, c manifest.Collection) bool {
	db := pol.Database
	if db == "" {
		db = "default"
	}
	switch {
	case pol.AllDatabases:
		return true
	case len(pol.Collections) > 0:
		return c.Database == db && slices.Contains(pol.Collections, c.Name)
	}
	return c.Database == db
}

// failures returns the policy's consecutive failures so far.
func (m *Metrics) failures(policy string) int {
	if v := readGauge(m.failing.WithLabelValues(policy)); v != nil {
		return int(*v)
	}
	return 0
}

// drilled records a drill of the policy's backup.
func (m *Metrics) drilled(policy string, pol PolicyConfig, b *manifest.Manifest, rep *drill.Report, maxRTO time.Duration) {
	if rep.OK {
		m.restoreBackup(policy, pol, b, []repo.Proof{{OK: true, At: rep.StartedAt}})
	}
	m.drillRTO.WithLabelValues(policy).Set(rep.RTOSeconds)
	m.drillMaxRTO.WithLabelValues(policy).Set(maxRTO.Seconds())
	m.drillOK.WithLabelValues(policy).Set(boolGauge(rep.OK))
}

// drillProof restores the drill metrics from a recorded drill.
func (m *Metrics) drillProof(policy string, p repo.Proof) {
	m.drillRTO.WithLabelValues(policy).Set(p.RTOSeconds)
	m.drillOK.WithLabelValues(policy).Set(boolGauge(p.OK))
	var rep drill.Report
	if json.Unmarshal(p.Report, &rep) == nil {
		m.drillMaxRTO.WithLabelValues(policy).Set(rep.MaxRTOSeconds)
	}
}

func boolGauge(ok bool) float64 {
	if ok {
		return 1
	}
	return 0
}
