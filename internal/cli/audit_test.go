package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/milvault/milvault/audit"
)

func TestParseSince(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		in   string
		want time.Time
		bad  bool
	}{
		{"", time.Time{}, false},
		{"24h", now.Add(-24 * time.Hour), false},
		{"2026-11-29", time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC), false},
		{"2026-11-29T10:00:00Z", time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC), false},
		{"yesterday", time.Time{}, true},
		{"-1h", time.Time{}, true},
	} {
		got, err := parseSince(c.in, now)
		if (err != nil) != c.bad || !got.Equal(c.want) {
			t.Errorf("parseSince(%q) = %s, %v; want %s (error: %v)", c.in, got, err, c.want, c.bad)
		}
	}
}

// TestUnlockListsAndAudits removes a stale lock: unlock lists it first and
// the trail records it; `audit` and `audit verify` show the entry.
func TestUnlockListsAndAudits(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "repo")
	if _, _, err := run(t, nil, "--repo", dir, "init"); err != nil {
		t.Fatal(err)
	}
	stale := `{"exclusive":true,"operation":"backup","host":"gone","pid":1,"created":"2020-01-01T00:00:00Z","refreshed":"2020-01-01T00:00:00Z"}`
	os.MkdirAll(filepath.Join(dir, "locks"), 0o755)
	if err := os.WriteFile(filepath.Join(dir, "locks", "20200101T000000.000000000Z-dead.json"), []byte(stale), 0o644); err != nil {
		t.Fatal(err)
	}
	_, errOut, err := run(t, nil, "--repo", dir, "unlock")
	if err != nil || !strings.Contains(errOut, "will remove locks/20200101T000000.000000000Z-dead.json") {
		t.Fatalf("unlock: %v, stderr %q; want the lock listed", err, errOut)
	}
	out, _, err := run(t, nil, "--repo", dir, "--json", "audit")
	var entries []audit.Entry
	if err != nil || json.Unmarshal([]byte(out), &entries) != nil || len(entries) != 1 || entries[0].Operation != audit.OpUnlock {
		t.Fatalf("audit --json = %s, %v; want one unlock entry", out, err)
	}
	if removed, _ := entries[0].Params["removed"].([]any); len(removed) != 1 || !strings.Contains(removed[0].(string), "dead.json") {
		t.Errorf("unlock entry params = %v; want the removed lock", entries[0].Params)
	}
	if out, _, err := run(t, nil, "--repo", dir, "audit", "verify"); err != nil || !strings.Contains(out, "audit trail intact: 1 entries") {
		t.Errorf("audit verify = %q, %v", out, err)
	}
	if out, _, err := run(t, nil, "--repo", dir, "audit"); err != nil || !strings.Contains(out, "unlock") || !strings.Contains(out, "ok") {
		t.Errorf("audit = %q, %v", out, err)
	}
}
