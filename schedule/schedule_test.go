package schedule

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func mustParse(t *testing.T, spec string) Schedule {
	t.Helper()
	s, err := Parse(spec)
	if err != nil {
		t.Fatalf("Parse(%q): %v", spec, err)
	}
	return s
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestNext(t *testing.T) {
	for _, tc := range []struct {
		spec, after, want string
	}{
		{"0 2 * * *", "2026-03-01T01:59:00Z", "2026-03-01T02:00:00Z"},
		{"0 2 * * *", "2026-03-01T02:00:00Z", "2026-03-02T02:00:00Z"},
		// 02:00 in Berlin is 01:00 UTC in winter and 00:00 UTC in summer.
		{"CRON_TZ=Europe/Berlin 0 2 * * *", "2026-03-01T00:00:00Z", "2026-03-01T01:00:00Z"},
		{"CRON_TZ=Europe/Berlin 0 2 * * *", "2026-06-01T00:30:00Z", "2026-06-02T00:00:00Z"},
		{"CRON_TZ=America/New_York 30 23 * * 1-5", "2026-03-06T12:00:00Z", "2026-03-07T04:30:00Z"}, // Friday 23:30 EST
		{"@every 6h", "2026-03-01T10:00:00Z", "2026-03-01T16:00:00Z"},
		{"@every 3s", "2026-03-01T10:00:00Z", "2026-03-01T10:00:03Z"},
		{"@daily", "2026-03-01T10:00:00Z", "2026-03-02T00:00:00Z"},
	} {
		got := mustParse(t, tc.spec).Next(utc(tc.after))
		if !got.Equal(utc(tc.want)) {
			t.Errorf("%q.Next(%s) = %s, want %s", tc.spec, tc.after, got.UTC().Format(time.RFC3339), tc.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, spec := range []string{"", "61 * * * *", "* * * *", "CRON_TZ=Mars/Olympus 0 2 * * *", "@every banana", "@sometimes"} {
		_, err := Parse(spec)
		if err == nil {
			t.Errorf("Parse(%q) succeeded, want an error", spec)
			continue
		}
		if !strings.Contains(err.Error(), "@every") {
			t.Errorf("Parse(%q) error %q does not say what to write instead", spec, err)
		}
	}
}

func TestMissed(t *testing.T) {
	daily := "0 2 * * *"
	for _, tc := range []struct {
		name, spec, last, now string
		want                  string // "" means nothing missed
	}{
		{"never ran", daily, "", "2026-03-05T12:00:00Z", ""},
		{"ran, next not yet due", daily, "2026-03-05T02:00:00Z", "2026-03-05T12:00:00Z", ""},
		{"one missed", daily, "2026-03-04T02:00:00Z", "2026-03-05T12:00:00Z", "2026-03-05T02:00:00Z"},
		{"several missed: the newest", daily, "2026-03-01T02:00:00Z", "2026-03-05T12:00:00Z", "2026-03-05T02:00:00Z"},
		{"due exactly now", daily, "2026-03-04T02:00:00Z", "2026-03-05T02:00:00Z", "2026-03-05T02:00:00Z"},
		{"interval", "@every 1h", "2026-03-05T08:30:00Z", "2026-03-05T12:00:00Z", "2026-03-05T11:30:00Z"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var last time.Time
			if tc.last != "" {
				last = utc(tc.last)
			}
			got, ok := mustParse(t, tc.spec).Missed(last, utc(tc.now))
			if tc.want == "" {
				if ok {
					t.Fatalf("Missed = %s, want nothing missed", got)
				}
				return
			}
			if !ok || !got.Equal(utc(tc.want)) {
				t.Fatalf("Missed = %s, %v; want %s", got, ok, tc.want)
			}
		})
	}
}

// TestDueAndAdvance drives three policies with a fake clock over a day.
func TestDueAndAdvance(t *testing.T) {
	start := utc("2026-03-05T00:00:00Z")
	entries := []Entry{
		{Name: "hourly", Schedule: mustParse(t, "@every 1h")},
		{Name: "nightly", Schedule: mustParse(t, "0 2 * * *")},
		{Name: "berlin", Schedule: mustParse(t, "CRON_TZ=Europe/Berlin 0 2 * * *")}, // 01:00 UTC
	}
	for i := range entries {
		entries[i].Next = entries[i].Schedule.Next(start)
	}
	runs := map[string]int{}
	var order []string
	for now := start; now.Before(start.Add(24 * time.Hour)); now = now.Add(time.Minute) {
		for _, name := range Due(entries, now) {
			runs[name]++
			order = append(order, name)
		}
		Advance(entries, now)
	}
	if runs["hourly"] != 23 || runs["nightly"] != 1 || runs["berlin"] != 1 { // hourly: 01:00 ... 23:00
		t.Fatalf("runs over a day = %v, want hourly 23, nightly 1, berlin 1", runs)
	}
	// At 01:00 UTC berlin and hourly are both due: ordered by name.
	if got := order[:3]; !slices.Equal(got, []string{"berlin", "hourly", "hourly"}) {
		t.Fatalf("first runs = %v, want [berlin hourly hourly]", got)
	}
}

// TestAdvanceCollapsesBacklog: a policy due many times while the scheduler
// was busy runs once, and its next run is in the future.
func TestAdvanceCollapsesBacklog(t *testing.T) {
	e := []Entry{{Name: "p", Schedule: mustParse(t, "@every 1m"), Next: utc("2026-03-05T00:01:00Z")}}
	now := utc("2026-03-05T00:10:30Z")
	if got := Due(e, now); !slices.Equal(got, []string{"p"}) {
		t.Fatalf("Due = %v, want [p]", got)
	}
	Advance(e, now)
	if want := utc("2026-03-05T00:11:30Z"); !e[0].Next.Equal(want) {
		t.Fatalf("next after backlog = %s, want %s", e[0].Next, want)
	}
	if got := Due(e, now); len(got) != 0 {
		t.Fatalf("Due after Advance = %v, want none", got)
	}
	if !Earliest(e).Equal(e[0].Next) {
		t.Fatalf("Earliest = %s, want %s", Earliest(e), e[0].Next)
	}
}
