package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/milvault/milvault/backup"
)

// The encode-workers comparison (issue 19): the same backup of the seeded
// collection with --encode-workers 1 and N, alternately, in one run. Both
// use encodeChunk as --chunk-size so that the collection spans several
// files (encoding is parallel across files; one 256 MiB default file
// would leave nothing to share out at bench sizes).
const encodeChunk = "16MiB"

// encodeStep names the backup with w encode workers.
func encodeStep(w int) string {
	return fmt.Sprintf("milvault backup --encode-workers %d --chunk-size %s", w, encodeChunk)
}

// encodeSteps backs coll up with one and with cfg.encodeWorkers encode
// workers, alternately, cfg.rounds times.
func encodeSteps(ctx context.Context, cfg config, r *result, coll string) error {
	dir, err := os.MkdirTemp("", "milvault-bench-encode-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	base := []string{"--milvus", cfg.addr, "--repo", dir, "-q"}
	if _, err := child(ctx, cfg.cpu, "init", cfg.bin, append(base, "init")...); err != nil {
		return err
	}
	for k := 1; k <= max(1, cfg.rounds); k++ {
		for _, w := range []int{1, cfg.encodeWorkers} {
			name := roundOf(encodeStep(w), k)
			logf("%s", name)
			s, err := child(ctx, cfg.cpu, name, cfg.bin, append(base, "backup", "-c", coll, "--name", fmt.Sprintf("enc-w%d-r%d", w, k),
				"--encode-workers", fmt.Sprint(w), "--chunk-size", encodeChunk)...)
			if err != nil {
				return err
			}
			s.rows, s.bytes = int64(r.rows), r.rawBytes
			r.add(s)
		}
	}
	return nil
}

// renderEncode reports rows/s and milvault CPU seconds of the backups with
// N encode workers against one, per round.
func renderEncode(r *result, rounds, workers int) string {
	if _, ok := r.steps[encodeStep(1)]; !ok {
		return ""
	}
	var b strings.Builder
	for k := 1; k <= max(1, rounds); k++ {
		one, n := r.steps[roundOf(encodeStep(1), k)], r.steps[roundOf(encodeStep(workers), k)]
		fmt.Fprintf(&b, "- encode workers, round %d: backup rows/s %.0f with 1, %.0f with %d (%.2f×); milvault CPU %.1f s with 1, %.1f s with %d; peak RSS %.0f / %.0f MiB; server CPU %s / %s s\n",
			k, float64(one.rows)/one.secs, float64(n.rows)/n.secs, workers, one.secs/n.secs, one.cpu, n.cpu, workers,
			float64(one.rss)/1024, float64(n.rss)/1024, cpuText(one.serverCPU), cpuText(n.serverCPU))
	}
	return b.String()
}

// defaultBenchEncodeWorkers is the N of the comparison: the backup's own
// default, but at least 2 so that there is something to compare.
func defaultBenchEncodeWorkers() int { return max(2, backup.DefaultEncodeWorkers()) }
