// Package schedule decides when the policies of `milvault serve` run. A
// schedule is a cron expression (five fields, an optional CRON_TZ=<zone>
// prefix, descriptors such as @daily) or an interval such as @every 6h,
// parsed by robfig/cron. The decisions (when is the next run, what is due
// now, which run was missed while the service was down) are pure functions
// of the schedule and the times passed in, so that they are tested with a
// fake clock.
package schedule

import (
	"fmt"
	"sort"
	"time"

	"github.com/robfig/cron/v3"
)

// Schedule is a parsed schedule.
type Schedule struct {
	spec  string
	sched cron.Schedule
}

// Parse reads a schedule: "0 2 * * *", "CRON_TZ=Europe/Berlin 30 1 * * 1-5",
// "@daily" or "@every 6h".
func Parse(spec string) (Schedule, error) {
	s, err := cron.ParseStandard(spec)
	if err != nil {
		return Schedule{}, fmt.Errorf("schedule %q: %v (use five cron fields, optionally prefixed by CRON_TZ=<zone>, or @every <duration> / @daily / @hourly)", spec, err)
	}
	return Schedule{spec: spec, sched: s}, nil
}

// String returns the schedule as it was written.
func (s Schedule) String() string { return s.spec }

// Next returns the first run strictly after t.
func (s Schedule) Next(t time.Time) time.Time { return s.sched.Next(t) }

// Missed returns the latest run that was due after last and at or before
// now, and whether there is one: the run a service that was down (last is
// its latest recorded run of the policy) owes at start-up. A zero last
// means the policy never ran: nothing was missed, since there is no
// history to measure from.
func (s Schedule) Missed(last, now time.Time) (time.Time, bool) {
	if last.IsZero() {
		return time.Time{}, false
	}
	due := s.Next(last)
	if due.After(now) {
		return time.Time{}, false
	}
	// Walk to the newest due time; bounded so that a one-second schedule
	// after a year of downtime does not loop for long.
	for i := 0; i < 100000; i++ {
		n := s.Next(due)
		if n.After(now) {
			break
		}
		due = n
	}
	return due, true
}

// Entry is one policy's schedule state.
type Entry struct {
	Name     string
	Schedule Schedule
	Next     time.Time // when the policy runs next
}

// Due returns the names of the entries whose next run is at or before now,
// in the order of their due times (then names).
func Due(entries []Entry, now time.Time) []string {
	var due []Entry
	for _, e := range entries {
		if !e.Next.After(now) {
			due = append(due, e)
		}
	}
	sort.SliceStable(due, func(i, j int) bool {
		if !due[i].Next.Equal(due[j].Next) {
			return due[i].Next.Before(due[j].Next)
		}
		return due[i].Name < due[j].Name
	})
	names := make([]string, len(due))
	for i, e := range due {
		names[i] = e.Name
	}
	return names
}

// Earliest returns the soonest next run among entries (zero when empty).
func Earliest(entries []Entry) time.Time {
	var t time.Time
	for _, e := range entries {
		if t.IsZero() || e.Next.Before(t) {
			t = e.Next
		}
	}
	return t
}

// Advance moves every due entry's next run past now, so that a policy that
// was due several times while a run went on runs once, not in a burst.
func Advance(entries []Entry, now time.Time) {
	for i := range entries {
		if !entries[i].Next.After(now) {
			entries[i].Next = entries[i].Schedule.Next(now)
		}
	}
}
