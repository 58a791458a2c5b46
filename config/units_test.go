package config

import (
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	day := 24 * time.Hour
	tests := map[string]time.Duration{"30s": 30 * time.Second, "15m": 15 * time.Minute, "36h": 36 * time.Hour,
		"7d": 7 * day, "2w": 14 * day, "1d12h": 36 * time.Hour, "1.5h": 90 * time.Minute, "500ms": 500 * time.Millisecond, "0": 0}
	for in, want := range tests {
		if got, err := ParseDuration(in); err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "soon", "-1h", "7 days", "1x"} {
		if _, err := ParseDuration(bad); err == nil {
			t.Errorf("ParseDuration(%q) succeeded, want error", bad)
		}
	}
	for _, d := range []time.Duration{7 * day, 36 * time.Hour, 30 * time.Second, 0, 1500 * time.Microsecond} {
		if got, err := ParseDuration(FormatDuration(d)); err != nil || got != d {
			t.Errorf("ParseDuration(FormatDuration(%v) = %q) = %v, %v", d, FormatDuration(d), got, err)
		}
	}
}

func TestParseSize(t *testing.T) {
	tests := map[string]int64{"256MiB": 256 << 20, "1GiB": 1 << 30, "2TiB": 2 << 40, "64KiB": 64 << 10, "64 kib": 64 << 10,
		"1048576": 1 << 20, "1.5MiB": 3 << 19, "2MB": 2e6, "3kB": 3000, "1TB": 1e12, "64M": 64e6}
	for in, want := range tests {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "abc", "-1M", "0", "1XB"} {
		if _, err := ParseSize(bad); err == nil {
			t.Errorf("ParseSize(%q) succeeded, want error", bad)
		}
	}
	for _, n := range []int64{256 << 20, 3 << 30, 1000, 1 << 40} {
		if got, err := ParseSize(FormatSize(n)); err != nil || got != n {
			t.Errorf("ParseSize(FormatSize(%d) = %q) = %d, %v", n, FormatSize(n), got, err)
		}
	}
}
