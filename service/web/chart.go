package web

import (
	"fmt"
	"strings"
	"time"

	"github.com/milvault/milvault/service"
)

// Chart geometry, in SVG user units (the SVG scales to its box).
const (
	chartW, chartH = 320.0, 120.0
	padL, padR     = 48.0, 8.0
	padT, padB     = 10.0, 20.0
)

// chart is a small line chart drawn on the server as inline SVG.
type chart struct {
	ID     string // e.g. nightly-size
	Title  string
	Empty  string // shown instead when there are no points
	Points []chartPoint
	Line   string // the polyline's points attribute
	YMax   string // label of the top of the axis
	From   string // time of the first point
	To     string // time of the last point
}

// chartPoint is one plotted run.
type chartPoint struct {
	X, Y  float64
	Label string // tooltip: time and value
	Bad   bool   // a failed drill
}

type sample struct {
	at  time.Time
	v   float64
	bad bool
}

// policyCharts draws a policy's backup size, backup duration and drill RTO
// over time.
func policyCharts(h service.PolicyHistory) []chart {
	var size, took, rto []sample
	for _, p := range h.Backups {
		size = append(size, sample{at: p.At, v: float64(p.Bytes)})
		took = append(took, sample{at: p.At, v: p.Seconds})
	}
	for _, p := range h.Drills {
		rto = append(rto, sample{at: p.At, v: p.Seconds, bad: !p.OK})
	}
	return []chart{
		newChart(h.Policy+"-size", "Backup size", "no successful backup recorded", size, formatBytes),
		newChart(h.Policy+"-duration", "Backup duration", "no successful backup recorded", took, formatSeconds),
		newChart(h.Policy+"-rto", "Drill RTO", "no drill recorded", rto, formatSeconds),
	}
}

func newChart(id, title, empty string, ss []sample, format func(float64) string) chart {
	c := chart{ID: id, Title: title, Empty: empty}
	if len(ss) == 0 {
		return c
	}
	t0, t1 := ss[0].at, ss[len(ss)-1].at
	ymax := 0.0
	for _, s := range ss {
		ymax = max(ymax, s.v)
	}
	if ymax == 0 {
		ymax = 1
	}
	ymax *= 1.1
	plotW, plotH := chartW-padL-padR, chartH-padT-padB
	var line []string
	for _, s := range ss {
		x := padL + plotW/2
		if span := t1.Sub(t0); span > 0 {
			x = padL + plotW*float64(s.at.Sub(t0))/float64(span)
		}
		y := padT + plotH*(1-s.v/ymax)
		c.Points = append(c.Points, chartPoint{X: round1(x), Y: round1(y), Bad: s.bad,
			Label: s.at.UTC().Format("2006-01-02 15:04:05Z") + ": " + format(s.v)})
		line = append(line, fmt.Sprintf("%.1f,%.1f", x, y))
	}
	c.Line = strings.Join(line, " ")
	c.YMax = format(ymax)
	c.From, c.To = shortTime(t0), shortTime(t1)
	return c
}

func round1(f float64) float64 { return float64(int64(f*10+0.5)) / 10 }

func shortTime(t time.Time) string { return t.UTC().Format("01-02 15:04") }

// formatBytes writes n bytes in binary units.
func formatBytes(n float64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	i := 0
	for n >= 1024 && i < len(units)-1 {
		n /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%.0f B", n)
	}
	return fmt.Sprintf("%.1f %s", n, units[i])
}

// formatSeconds writes a duration rounded to what a person reads.
func formatSeconds(s float64) string {
	d := time.Duration(s * float64(time.Second))
	switch {
	case d < 10*time.Second:
		return d.Round(100 * time.Millisecond).String()
	case d < time.Hour:
		return d.Round(time.Second).String()
	}
	return d.Round(time.Minute).String()
}
