package main

import "testing"

func TestVmHWM(t *testing.T) {
	tests := []struct {
		status string
		want   int64
	}{
		{"Name:\tmilvault\nVmPeak:\t 2000000 kB\nVmHWM:\t  123456 kB\nVmRSS:\t 100 kB\n", 123456},
		{"Name:\tzombie\nState:\tZ (zombie)\n", 0},
		{"", 0},
	}
	for _, tt := range tests {
		if got := vmHWM([]byte(tt.status)); got != tt.want {
			t.Errorf("vmHWM(%q) = %d, want %d", tt.status, got, tt.want)
		}
	}
}
