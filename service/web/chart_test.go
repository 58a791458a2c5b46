package web

import (
	"testing"
	"time"

	"github.com/milvault/milvault/jobs"
	"github.com/milvault/milvault/service"
)

func TestChartPlacesPointsByTime(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := newChart("p-size", "Backup size", "none", []sample{
		{at: t0, v: 100}, {at: t0.Add(time.Hour), v: 200}, {at: t0.Add(4 * time.Hour), v: 50},
	}, formatBytes)
	if len(c.Points) != 3 {
		t.Fatalf("points = %d, want 3", len(c.Points))
	}
	if c.Points[0].X != padL || c.Points[2].X != chartW-padR {
		t.Errorf("x of the first and last points = %v, %v, want %v, %v", c.Points[0].X, c.Points[2].X, padL, chartW-padR)
	}
	if x := c.Points[1].X; x != round1(padL+(chartW-padL-padR)/4) {
		t.Errorf("x of the point 1 h in = %v, want a quarter of the way", x)
	}
	if !(c.Points[1].Y < c.Points[0].Y && c.Points[0].Y < c.Points[2].Y) {
		t.Errorf("y = %v, %v, %v: the largest value must be highest (smallest y)", c.Points[0].Y, c.Points[1].Y, c.Points[2].Y)
	}
	if c.Points[1].Y < padT {
		t.Errorf("the largest value is drawn above the plot: y %v", c.Points[1].Y)
	}
	if one := newChart("x", "x", "none", []sample{{at: t0, v: 5}}, formatSeconds); one.Points[0].X != padL+(chartW-padL-padR)/2 {
		t.Errorf("a single point is at x %v, want the middle", one.Points[0].X)
	}
	if empty := newChart("x", "x", "none", nil, formatSeconds); len(empty.Points) != 0 || empty.Line != "" {
		t.Errorf("an empty chart has points %v", empty.Points)
	}
}

func TestHealth(t *testing.T) {
	now := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	failed := &jobs.Job{State: jobs.StateFailed}
	ok := &jobs.Job{State: jobs.StateSucceeded}
	for _, c := range []struct {
		name string
		p    service.PolicyStatus
		want string
	}{
		{"violated", service.PolicyStatus{RPOState: "violated", RPOSeconds: 3600, LastSuccess: now.Add(-2 * time.Hour)}, "red"},
		{"never succeeded", service.PolicyStatus{RPOState: "unknown", RPOSeconds: 3600}, "amber"},
		{"last run failed", service.PolicyStatus{RPOState: "ok", RPOSeconds: 3600, LastSuccess: now.Add(-time.Minute), LastJob: failed}, "amber"},
		{"close to the RPO", service.PolicyStatus{RPOState: "ok", RPOSeconds: 3600, LastSuccess: now.Add(-50 * time.Minute), LastJob: ok}, "amber"},
		{"fresh", service.PolicyStatus{RPOState: "ok", RPOSeconds: 3600, LastSuccess: now.Add(-10 * time.Minute), LastJob: ok}, "green"},
		{"no RPO, succeeded", service.PolicyStatus{RPOState: "none", LastSuccess: now.Add(-48 * time.Hour), LastJob: ok}, "green"},
		{"no RPO, never ran", service.PolicyStatus{RPOState: "none"}, "grey"},
		{"no RPO, failed", service.PolicyStatus{RPOState: "none", LastJob: failed}, "amber"},
	} {
		if got, why := health(c.p, now); got != c.want {
			t.Errorf("%s: health = %s (%s), want %s", c.name, got, why, c.want)
		}
	}
}
