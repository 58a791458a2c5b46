package progress

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestJSON(t *testing.T) {
	clock := newFakeClock()
	var buf bytes.Buffer
	p := NewJSON(&buf, clock)
	p.Phase("backup default.docs", 1000, 1<<20)
	clock.Advance(500 * time.Millisecond)
	p.Rows(50) // under a second since the phase started: no event
	clock.Advance(1500 * time.Millisecond)
	p.Rows(150)
	p.Bytes(1 << 18)
	p.Note("flushed")
	clock.Advance(2 * time.Second)
	p.Rows(800)
	p.Done()
	p.Done()

	eta := 8.0
	want := []map[string]any{
		{"event": "phase", "phase": "backup default.docs", "rows": 0, "total_rows": 1000, "bytes": 0,
			"total_bytes": 1 << 20, "rows_per_sec": 0, "bytes_per_sec": 0, "eta_seconds": nil,
			"elapsed_seconds": 0, "time": "2026-03-14T15:09:26Z"},
		{"event": "progress", "phase": "backup default.docs", "rows": 200, "total_rows": 1000, "bytes": 0,
			"total_bytes": 1 << 20, "rows_per_sec": 100, "bytes_per_sec": 0, "eta_seconds": eta,
			"elapsed_seconds": 2, "time": "2026-03-14T15:09:28Z"},
		{"event": "note", "phase": "backup default.docs", "msg": "flushed", "time": "2026-03-14T15:09:28Z"},
		// Window rates 250 rows/s and 64 KiB/s, smoothed with the earlier
		// 100 rows/s and 0 B/s: alpha = 1 - e^(-2s/3s) = 0.4866.
		{"event": "progress", "phase": "backup default.docs", "rows": 1000, "total_rows": 1000, "bytes": 1 << 18,
			"total_bytes": 1 << 20, "rows_per_sec": 172.987, "bytes_per_sec": 31888.696, "eta_seconds": 0,
			"elapsed_seconds": 4, "time": "2026-03-14T15:09:30Z"},
		{"event": "phase_done", "phase": "backup default.docs", "rows": 1000, "total_rows": 1000, "bytes": 1 << 18,
			"total_bytes": 1 << 20, "rows_per_sec": 250, "bytes_per_sec": 65536, "eta_seconds": 0,
			"elapsed_seconds": 4, "time": "2026-03-14T15:09:30Z"},
		{"event": "done", "elapsed_seconds": 4, "time": "2026-03-14T15:09:30Z"},
	}
	got := decodeLines(t, buf.String())
	if len(got) != len(want) {
		t.Fatalf("got %d events, want %d:\n%s", len(got), len(want), buf.String())
	}
	for i := range want {
		if w := normalize(t, want[i]); !reflect.DeepEqual(got[i], w) {
			t.Errorf("event %d:\n got %v\nwant %v", i+1, got[i], w)
		}
	}
}

func TestJSONTimeIsRFC3339Nano(t *testing.T) {
	clock := newFakeClock()
	clock.Advance(1500 * time.Microsecond)
	var buf bytes.Buffer
	p := NewJSON(&buf, clock)
	p.Note("x")
	got := decodeLines(t, buf.String())[0]["time"]
	if want := "2026-03-14T15:09:26.0015Z"; got != want {
		t.Errorf("time = %v, want %v", got, want)
	}
}

func decodeLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var events []map[string]any
	for line := range strings.Lines(out) {
		var e map[string]any
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("line %q is not JSON: %v", line, err)
		}
		events = append(events, e)
	}
	return events
}

// normalize round-trips want through JSON so its numbers compare as float64.
func normalize(t *testing.T, want map[string]any) map[string]any {
	t.Helper()
	b, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}
