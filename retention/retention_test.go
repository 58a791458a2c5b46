package retention

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files")

// history returns backups every 7 hours over 120 days before now, in two
// groups, so that daily, weekly and monthly buckets hold several backups.
func history(now time.Time) []Backup {
	var out []Backup
	for i := 0; i < 120*24/7; i++ {
		t := now.Add(-time.Duration(i) * 7 * time.Hour)
		out = append(out, Backup{ID: fmt.Sprintf("b%03d", i), CreatedAt: t, Group: "docs"})
		if i%5 == 0 {
			out = append(out, Backup{ID: fmt.Sprintf("s%03d", i), CreatedAt: t, Group: "sales"})
		}
	}
	return out
}

func TestGolden(t *testing.T) {
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		p    Policy
	}{
		{"last5", Policy{KeepLast: 5}},
		{"within10d", Policy{KeepWithin: 10 * 24 * time.Hour}},
		{"gfs", Policy{KeepDaily: 7, KeepWeekly: 4, KeepMonthly: 3}},
		{"combined", Policy{KeepLast: 2, KeepWithin: 48 * time.Hour, KeepDaily: 5, KeepWeekly: 3, KeepMonthly: 2, MinKeep: 3}},
		{"minkeep_only_old", Policy{KeepWithin: time.Hour, MinKeep: 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Summary(Apply(tt.p, history(now), now))
			path := filepath.Join("testdata", tt.name+".golden")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./retention -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("decisions differ from %s (run with -update after checking the change):\n%s", path, firstDiff(got, string(want)))
			}
		})
	}
}

func TestRules(t *testing.T) {
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	bs := []Backup{
		{ID: "a", CreatedAt: now.Add(-1 * time.Hour)},
		{ID: "b", CreatedAt: now.Add(-2 * time.Hour)},
		{ID: "c", CreatedAt: now.Add(-1*day - time.Hour)},
		{ID: "d", CreatedAt: now.Add(-40 * day)},
		{ID: "e", CreatedAt: now.Add(-400 * day)},
	}
	tests := []struct {
		name string
		p    Policy
		want string // kept ids in newest-first order
	}{
		{"keep last 2", Policy{KeepLast: 2}, "ab"},
		{"within 2 days", Policy{KeepWithin: 2 * day}, "abc"},
		{"daily 2 keeps newest per day", Policy{KeepDaily: 2}, "ac"},
		{"monthly 3", Policy{KeepMonthly: 3}, "ade"},
		{"min keep wins over nothing", Policy{KeepWithin: time.Minute, MinKeep: 3}, "abc"},
		{"nothing", Policy{}, ""},
	}
	for _, tt := range tests {
		got := ""
		for _, d := range Apply(tt.p, bs, now) {
			if d.Keep {
				got += d.Backup.ID
			}
		}
		if got != tt.want {
			t.Errorf("%s: kept %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestValidate(t *testing.T) {
	if err := (Policy{KeepLast: -1}).Validate(); err == nil {
		t.Error("negative keep-last accepted")
	}
	if !(Policy{MinKeep: 3}).Empty() || (Policy{KeepDaily: 1}).Empty() {
		t.Error("Empty() wrong")
	}
}

func firstDiff(got, want string) string {
	for i := 0; i < len(got) && i < len(want); i++ {
		if got[i] != want[i] {
			start := max(0, i-80)
			return fmt.Sprintf("got  ...%s\nwant ...%s", got[start:min(len(got), i+80)], want[start:min(len(want), i+80)])
		}
	}
	return fmt.Sprintf("lengths differ: got %d, want %d", len(got), len(want))
}
