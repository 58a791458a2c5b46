package progress

import (
	"math"
	"testing"
	"time"
)

func TestHumanBytes(t *testing.T) {
	tests := []struct {
		in   int64
		want string
	}{
		{0, "0 B"},
		{1023, "1023 B"},
		{1024, "1.0 KiB"},
		{1536, "1.5 KiB"},
		{12*1024*1024 + 300*1024, "12.3 MiB"},
		{1 << 20 * 1023, "1023.0 MiB"},
		{1<<20 - 1, "1.0 MiB"}, // rounds up into the next unit, not "1024.0 KiB"
		{3 << 29, "1.5 GiB"},
		{5 << 40, "5.0 TiB"},
		{math.MaxInt64, "8.0 EiB"},
		{-2048, "-2.0 KiB"},
	}
	for _, tt := range tests {
		if got := HumanBytes(tt.in); got != tt.want {
			t.Errorf("HumanBytes(%d) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestHumanCount(t *testing.T) {
	tests := []struct {
		in   int64
		want string
	}{
		{0, "0"},
		{999, "999"},
		{1000, "1,000"},
		{1234567, "1,234,567"},
		{-1234, "-1,234"},
		{-123, "-123"},
	}
	for _, tt := range tests {
		if got := HumanCount(tt.in); got != tt.want {
			t.Errorf("HumanCount(%d) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestHumanDuration(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want string
	}{
		{-time.Second, "0s"},
		{0, "0.0s"},
		{420 * time.Millisecond, "0.4s"},
		{9900 * time.Millisecond, "9.9s"},
		{9960 * time.Millisecond, "10s"},
		{42 * time.Second, "42s"},
		{59700 * time.Millisecond, "1m00s"},
		{83 * time.Second, "1m23s"},
		{2*time.Hour + 5*time.Minute + 10*time.Second, "2h05m"},
		{3*24*time.Hour + 4*time.Hour, "3d04h"},
	}
	for _, tt := range tests {
		if got := HumanDuration(tt.in); got != tt.want {
			t.Errorf("HumanDuration(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestHumanRate(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{0, "0"},
		{950.4, "950"},
		{2100, "2.1k"},
		{999_960, "1.0M"},
		{1.3e9, "1.3G"},
	}
	for _, tt := range tests {
		if got := humanRate(tt.in); got != tt.want {
			t.Errorf("humanRate(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
