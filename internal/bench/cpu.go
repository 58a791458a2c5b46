package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// clockTicks is the unit of utime and stime in /proc/<pid>/stat (USER_HZ,
// 100 on every Linux this runs on).
const clockTicks = 100

// cpuMeter reads CPU time: this process's own, and the Milvus server's, as
// the sum over every process in the server's process group (the launcher
// and the server binary that scripts/milvus-env.sh starts in one group).
type cpuMeter struct {
	serverPgid int // 0: the server's CPU time is not measured
}

// self returns this process's user+system CPU seconds so far.
func (cpuMeter) self() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return tvSecs(ru.Utime) + tvSecs(ru.Stime)
}

func tvSecs(tv syscall.Timeval) float64 { return float64(tv.Sec) + float64(tv.Usec)/1e6 }

// server returns the user+system CPU seconds of the live processes of the
// server's process group, or -1 when not measured.
func (m cpuMeter) server() float64 {
	if m.serverPgid <= 0 {
		return -1
	}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var ticks int64
	for _, path := range stats {
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		pgrp, cpu, ok := parseStat(string(b))
		if ok && pgrp == m.serverPgid {
			ticks += cpu
		}
	}
	return float64(ticks) / clockTicks
}

// parseStat returns the process group and utime+stime (ticks) of one
// /proc/<pid>/stat line. The command name (field 2) may hold spaces and
// parentheses, so fields are counted from its closing parenthesis.
func parseStat(line string) (pgrp int, ticks int64, ok bool) {
	i := strings.LastIndexByte(line, ')')
	if i < 0 {
		return 0, 0, false
	}
	f := strings.Fields(line[i+1:])
	// f[0] is field 3 (state): pgrp is field 5, utime 14, stime 15.
	if len(f) < 13 {
		return 0, 0, false
	}
	pgrp, err1 := strconv.Atoi(f[2])
	ut, err2 := strconv.ParseInt(f[11], 10, 64)
	st, err3 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return 0, 0, false
	}
	return pgrp, ut + st, true
}

// span measures the CPU used between start and end.
type span struct {
	m              cpuMeter
	self0, server0 float64
}

func (m cpuMeter) start() span { return span{m: m, self0: m.self(), server0: m.server()} }

// end returns this process's and the server's CPU seconds since start
// (server -1 when not measured).
func (s span) end() (self, server float64) {
	self = s.m.self() - s.self0
	server = -1
	if s.server0 >= 0 {
		server = s.m.server() - s.server0
	}
	return self, server
}
