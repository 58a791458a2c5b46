package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/milvault/milvault/backup"
	"github.com/milvault/milvault/milvus"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/local"
)

// profiledBackup backs coll up in this process through the backup library,
// with the CLI's defaults, into a fresh local repository while a CPU
// profile is written to profilePath. milvault itself has no profiling
// switch; the library call is the same one `milvault backup` makes.
func profiledBackup(ctx context.Context, c *milvus.Client, coll, profilePath string) (float64, error) {
	dir, err := os.MkdirTemp("", "milvault-bench-prof-*")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	s, err := local.New(dir)
	if err != nil {
		return 0, err
	}
	r, err := repo.OpenOrInit(ctx, s)
	if err != nil {
		return 0, err
	}
	f, err := os.Create(profilePath)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	if err := pprof.StartCPUProfile(f); err != nil {
		return 0, err
	}
	start := time.Now()
	_, err = backup.Run(ctx, backup.Deps{Milvus: c, Repo: r, ToolVersion: "bench"}, backup.Params{Collections: []string{coll}})
	secs := time.Since(start).Seconds()
	pprof.StopCPUProfile()
	if err != nil {
		return 0, fmt.Errorf("profiled backup: %w", err)
	}
	return secs, f.Close()
}

// topFunctions returns the profile's top n functions by cumulative time
// (`go tool pprof -top -cum`, without the frames every sample passes
// through: this program's main, the runtime's entry frames and backup.Run's
// wrappers down to writeCollection) and by own (flat) time.
func topFunctions(profilePath string, n int) (string, error) {
	cum, err := pprofTop(profilePath, n, "-cum", "-hide", hiddenFrames)
	if err != nil {
		return "", err
	}
	flat, err := pprofTop(profilePath, n)
	if err != nil {
		return "", err
	}
	return "by cumulative time:\n" + cum + "\n\nby own (flat) time:\n" + flat, nil
}

// hiddenFrames matches the frames topFunctions leaves out.
const hiddenFrames = `^main\.|^runtime\.(main|goexit)$|^github\.com/milvault/milvault/backup\.(Run|run|runLocked|writeAll)$`

func pprofTop(profilePath string, n int, args ...string) (string, error) {
	args = append(append([]string{"tool", "pprof", "-top", fmt.Sprintf("-nodecount=%d", n)}, args...), profilePath)
	out, err := exec.Command("go", args...).Output()
	if err != nil {
		return "", fmt.Errorf("go tool pprof: %w", err)
	}
	// Keep pprof's summary and table, without the file and build header.
	var keep []string
	for _, l := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		if strings.HasPrefix(l, "File:") || strings.HasPrefix(l, "Type:") || strings.HasPrefix(l, "Time:") ||
			strings.HasPrefix(l, "Build ID:") || strings.HasPrefix(l, "Active filters:") || strings.HasPrefix(l, "   hide=") {
			continue
		}
		keep = append(keep, l)
	}
	return strings.Join(keep, "\n"), nil
}
