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

func TestParseStat(t *testing.T) {
	line := "4242 (milvus (run) x) S 1 4200 4200 0 -1 4194560 100 0 0 0 1234 567 0 0 20 0 30 0 100 0 0"
	pgrp, ticks, ok := parseStat(line)
	if !ok || pgrp != 4200 || ticks != 1234+567 {
		t.Fatalf("parseStat = %d, %d, %v; want 4200, 1801, true", pgrp, ticks, ok)
	}
	if _, _, ok := parseStat("garbage"); ok {
		t.Fatal("parseStat accepted a line without a command name")
	}
}
