package service

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/repo"
)

// TestRestoreMetrics: the last success is the newest backup of the
// selected collections whose newest verification did not fail; the last
// verification and the drill come from proofs.
func TestRestoreMetrics(t *testing.T) {
	m, err := newMetrics(prometheus.NewRegistry(), "test")
	if err != nil {
		t.Fatal(err)
	}
	at := func(h int) time.Time { return time.Date(2026, 3, 5, h, 0, 0, 0, time.UTC) }
	backup := func(id string, h int, colls ...string) *manifest.Manifest {
		b := &manifest.Manifest{ID: id, CreatedAt: at(h)}
		for _, c := range colls {
			b.Collections = append(b.Collections, manifest.Collection{Database: "default", Name: c, Rows: 10})
		}
		return b
	}
	backups := []*manifest.Manifest{
		backup("b1", 1, "docs"),
		backup("b2", 2, "docs", "other"),
		backup("b3", 3, "docs"),       // its verification failed
		backup("b4", 4, "unselected"), // another collection
	}
	proofs := map[string][]repo.Proof{
		"b1": {{Kind: repo.ProofChecksum, OK: true, At: at(5)}},
		"b2": {{Kind: repo.ProofDrill, OK: false, At: at(6), RTOSeconds: 42}},
		"b3": {{Kind: repo.ProofChecksum, OK: false, At: at(7)}},
	}
	pol := PolicyConfig{Collections: []string{"docs"}}
	m.restore("p", pol, backups, proofs)
	for _, tc := range []struct {
		name string
		got  *float64
		want time.Time
	}{
		{"last success", readGauge(m.lastSuccess.WithLabelValues("p", "default", "docs")), at(2)},
		{"last verified", readGauge(m.lastVerified.WithLabelValues("p", "default", "docs")), at(5)},
	} {
		if tc.got == nil || *tc.got != unix(tc.want) {
			t.Errorf("%s = %v, want %v", tc.name, deref(tc.got), unix(tc.want))
		}
	}
	if v := readGauge(m.drillRTO.WithLabelValues("p")); v == nil || *v != 42 {
		t.Errorf("drill RTO = %v, want 42", deref(v))
	}
	if v := readGauge(m.drillOK.WithLabelValues("p")); v == nil || *v != 0 {
		t.Errorf("drill ok = %v, want 0 (the drill failed)", deref(v))
	}
	if v := readGauge(m.rows.WithLabelValues("p")); v == nil || *v != 10 {
		t.Errorf("rows = %v, want 10 (of b3, the newest selected backup)", deref(v))
	}
}

func deref(v *float64) any {
	if v == nil {
		return "unset"
	}
	return *v
}
