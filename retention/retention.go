// Package retention decides which backups to keep. Policy evaluation is a
// pure function over backup times, tested with golden files; deleting is the
// caller's business (the repository removes a manifest first, then files).
package retention

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Policy says what to keep. A backup is kept when any rule keeps it; zero
// values disable a rule. MinKeep always keeps that many newest backups.
type Policy struct {
	KeepLast    int
	KeepWithin  time.Duration // relative to Now
	KeepDaily   int
	KeepWeekly  int
	KeepMonthly int
	MinKeep     int
}

// Backup is what the policy looks at.
type Backup struct {
	ID        string
	CreatedAt time.Time
	Group     string // backups are judged per group (e.g. per collection set)
}

// Decision is the verdict for one backup.
type Decision struct {
	Backup  Backup
	Keep    bool
	Reasons []string // why it is kept, e.g. "last 3", "daily 2026-11-20"
}

// Empty reports whether the policy keeps nothing by itself, which would
// delete everything but MinKeep; callers should refuse it.
func (p Policy) Empty() bool {
	return p.KeepLast == 0 && p.KeepWithin == 0 && p.KeepDaily == 0 && p.KeepWeekly == 0 && p.KeepMonthly == 0
}

// Validate rejects negative values.
func (p Policy) Validate() error {
	for name, v := range map[string]int{"--keep-last": p.KeepLast, "--keep-daily": p.KeepDaily,
		"--keep-weekly": p.KeepWeekly, "--keep-monthly": p.KeepMonthly, "--min-keep": p.MinKeep} {
		if v < 0 {
			return fmt.Errorf("%s %d: must be zero or more", name, v)
		}
	}
	if p.KeepWithin < 0 {
		return fmt.Errorf("--keep-within %s: must be positive", p.KeepWithin)
	}
	return nil
}

// Apply decides for every backup, group by group, newest first within a
// group. Times are compared in the location of now (calendar buckets follow
// the operator's days, weeks and months).
func Apply(p Policy, backups []Backup, now time.Time) []Decision {
	groups := map[string][]Backup{}
	var names []string
	for _, b := range backups {
		if _, ok := groups[b.Group]; !ok {
			names = append(names, b.Group)
		}
		groups[b.Group] = append(groups[b.Group], b)
	}
	sort.Strings(names)
	var out []Decision
	for _, g := range names {
		out = append(out, applyGroup(p, groups[g], now)...)
	}
	return out
}

func applyGroup(p Policy, bs []Backup, now time.Time) []Decision {
	sort.SliceStable(bs, func(i, j int) bool { return bs[i].CreatedAt.After(bs[j].CreatedAt) })
	ds := make([]Decision, len(bs))
	for i, b := range bs {
		ds[i] = Decision{Backup: b}
	}
	keepNewest(ds, p.KeepLast, "last %d")
	keepNewest(ds, p.MinKeep, "min-keep %d")
	if p.KeepWithin > 0 {
		for i := range ds {
			if now.Sub(ds[i].Backup.CreatedAt) <= p.KeepWithin {
				ds[i].keep(fmt.Sprintf("within %s", p.KeepWithin))
			}
		}
	}
	loc := now.Location()
	keepBuckets(ds, p.KeepDaily, "daily", func(t time.Time) string { return t.In(loc).Format("2006-01-02") })
	keepBuckets(ds, p.KeepWeekly, "weekly", func(t time.Time) string {
		y, w := t.In(loc).ISOWeek()
		return fmt.Sprintf("%d-W%02d", y, w)
	})
	keepBuckets(ds, p.KeepMonthly, "monthly", func(t time.Time) string { return t.In(loc).Format("2006-01") })
	return ds
}

func (d *Decision) keep(reason string) {
	d.Keep = true
	d.Reasons = append(d.Reasons, reason)
}

func keepNewest(ds []Decision, n int, format string) {
	for i := 0; i < n && i < len(ds); i++ {
		ds[i].keep(fmt.Sprintf(format, n))
	}
}

// keepBuckets keeps the newest backup of each of the n newest buckets that
// hold a backup (restic's semantics: empty periods do not count).
func keepBuckets(ds []Decision, n int, kind string, bucket func(time.Time) string) {
	seen := map[string]bool{}
	for i := range ds {
		if len(seen) >= n {
			return
		}
		b := bucket(ds[i].Backup.CreatedAt)
		if seen[b] {
			continue
		}
		seen[b] = true
		ds[i].keep(kind + " " + b)
	}
}

// Summary renders decisions as one line per backup, for reports and golden
// files.
func Summary(ds []Decision) string {
	var b strings.Builder
	for _, d := range ds {
		verdict := "remove"
		if d.Keep {
			verdict = "keep  "
		}
		fmt.Fprintf(&b, "%s %-8s %s %s", verdict, d.Backup.Group, d.Backup.CreatedAt.Format(time.RFC3339), d.Backup.ID)
		if len(d.Reasons) > 0 {
			fmt.Fprintf(&b, " (%s)", strings.Join(d.Reasons, ", "))
		}
		b.WriteByte('\n')
	}
	return b.String()
}
