// Command bench measures milvault against a real Milvus: for each row count
// it seeds the demo collection, runs `milvault backup` and `milvault restore`
// as child processes, and reports wall time, rows/s and the child's peak
// resident memory (from the kernel's rusage), so that memory growth with
// collection size is measured in one run. scripts/bench.sh runs it.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type measurement struct {
	rows        int
	backupSecs  float64
	backupRSS   int64 // KiB
	restoreSecs float64
	restoreRSS  int64
	backupBytes int64
}

func main() {
	bin := flag.String("milvault", "bin/milvault", "milvault binary")
	addr := flag.String("milvus", "127.0.0.1:19541", "Milvus address")
	sizes := flag.String("rows", "100000,1000000", "comma-separated row counts")
	out := flag.String("out", "", "append a markdown table to this file")
	flag.Parse()
	var ms []measurement
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			fail(fmt.Errorf("bad row count %q", s))
		}
		m, err := measure(context.Background(), *bin, *addr, n)
		if err != nil {
			fail(err)
		}
		ms = append(ms, m)
		fmt.Println(row(m))
	}
	table := render(ms)
	fmt.Print(table)
	if *out != "" {
		f, err := os.OpenFile(*out, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			fail(err)
		}
		defer f.Close()
		f.WriteString(table)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	os.Exit(1)
}

func measure(ctx context.Context, bin, addr string, rows int) (measurement, error) {
	m := measurement{rows: rows}
	repo, err := os.MkdirTemp("", "milvault-bench-*")
	if err != nil {
		return m, err
	}
	defer os.RemoveAll(repo)
	coll := fmt.Sprintf("bench_%d", rows)
	base := []string{"--milvus", addr, "--repo", repo, "-q"}
	run(ctx, bin, append(base, "demo", "drop", "-c", coll)...) // ignore: may not exist
	run(ctx, bin, append(base, "demo", "drop", "-c", coll+"_r")...)
	if _, _, err := run(ctx, bin, append(base, "demo", "seed", "-c", coll, "--rows", strconv.Itoa(rows))...); err != nil {
		return m, fmt.Errorf("seed: %w", err)
	}
	if m.backupSecs, m.backupRSS, err = run(ctx, bin, append(base, "backup", "-c", coll, "--name", "b")...); err != nil {
		return m, fmt.Errorf("backup: %w", err)
	}
	m.backupBytes = dirSize(filepath.Join(repo, "data"))
	if m.restoreSecs, m.restoreRSS, err = run(ctx, bin, append(base, "restore", "b", "--target", coll+"_r", "--no-load")...); err != nil {
		return m, fmt.Errorf("restore: %w", err)
	}
	run(ctx, bin, append(base, "demo", "drop", "-c", coll)...)
	run(ctx, bin, append(base, "demo", "drop", "-c", coll+"_r")...)
	return m, nil
}

// run executes the binary and returns wall seconds and peak RSS in KiB.
func run(ctx context.Context, bin string, args ...string) (float64, int64, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	secs := time.Since(start).Seconds()
	if err != nil {
		return secs, 0, fmt.Errorf("%s %s: %v: %s", bin, strings.Join(args, " "), err, stderr.String())
	}
	ru, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	var rss int64
	if ru != nil {
		rss = ru.Maxrss
	}
	return secs, rss, nil
}

func dirSize(dir string) int64 {
	var n int64
	filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			n += fi.Size()
		}
		return nil
	})
	return n
}

func row(m measurement) string {
	raw := float64(m.rows) * (8 + 128*4)
	return fmt.Sprintf("| %d | %.1f | %.0f | %.1f | %.1f | %.0f | %.1f | %.2f |", m.rows,
		m.backupSecs, float64(m.rows)/m.backupSecs, float64(m.backupRSS)/1024,
		m.restoreSecs, float64(m.rows)/m.restoreSecs, float64(m.restoreRSS)/1024, float64(m.backupBytes)/raw)
}

func render(ms []measurement) string {
	var b strings.Builder
	b.WriteString("\n| rows | backup s | backup rows/s | backup peak RSS MiB | restore s | restore rows/s | restore peak RSS MiB | backup size / raw vectors+ids |\n")
	b.WriteString("|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, m := range ms {
		b.WriteString(row(m) + "\n")
	}
	if len(ms) >= 2 && ms[0].backupRSS > 0 {
		first, last := ms[0], ms[len(ms)-1]
		fmt.Fprintf(&b, "\nPeak RSS ratio %d rows / %d rows: backup %.2f, restore %.2f\n", last.rows, first.rows,
			float64(last.backupRSS)/float64(first.backupRSS), float64(last.restoreRSS)/float64(first.restoreRSS))
	}
	return b.String()
}
