// Command bench measures milvault against the limit of a real Milvus server,
// in one run (issue 5). For each row count it seeds a collection of the
// benchmark schema (768-d vectors, HNSW index by default, loaded), then
// measures:
//
//   - the raw query drain: the backup's Query RPCs and batch size, results
//     discarded;
//   - `milvault backup` as a child process (wall time, peak RSS from rusage),
//     and once more in this process through the backup library under a CPU
//     profile;
//   - the raw insert drain: the restore's Insert batch size and concurrency,
//     batches built beforehand, into a fresh collection without index;
//   - `milvault restore --no-indexes --no-load` and the full restore (index
//     and load) as child processes;
//   - `milvault restore --bulk-import --no-indexes --no-load` (the server's
//     bulk import of the staged backup files) as a child process, when the
//     server has bulk import; the staging directory is a temporary
//     directory on this machine, which a local server reads;
//   - `milvault verify` against a plain sequential read of the same files;
//   - backup and restore into a plain and an encrypted repository, back to
//     back (-encryption-only measures just these after seeding);
//   - backup with --encode-workers 1 and N, alternately (-encode-only
//     measures just these after seeding).
//
// scripts/bench.sh runs it.
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
	"time"

	"github.com/milvault/milvault/milvus"
)

// step is one measured operation.
type step struct {
	name  string
	secs  float64
	rows  int64
	bytes int64 // bytes the MB/s figure is computed from
	rss   int64 // peak RSS in KiB; 0 when not a child process
	// CPU seconds (user+system) of milvault (or of this process for the raw
	// drains) and of the Milvus server during the step; -1 unknown.
	cpu, serverCPU float64
}

// result is everything measured for one row count.
type result struct {
	rows        int
	rawBytes    int64
	backupBytes int64
	steps       map[string]step
	order       []string
	rounds      int // drain/backup rounds measured
	// encodeWorkers is N of the encode-workers comparison (0: not run).
	encodeWorkers int
	profileTop    string
	profileSecs   float64
}

func (r *result) add(s step) {
	if r.steps == nil {
		r.steps = map[string]step{}
	}
	r.steps[s.name] = s
	r.order = append(r.order, s.name)
}

// Step names used for the ratios.
const (
	stepQuery       = "raw query drain (backup's Query RPCs and batches)"
	stepBackup      = "milvault backup"
	stepInsert      = "raw insert drain (restore's batches, 2 workers), Insert RPCs"
	stepInsertF     = "raw insert drain incl. flush"
	stepRestoreRaw  = "milvault restore --no-indexes --no-load"
	stepRestoreBulk = "milvault restore --bulk-import --no-indexes --no-load"
	stepRestore     = "milvault restore (index + load)"
	stepRead        = "sequential read of the backup files"
	stepVerify      = "milvault verify (sha256 of every file)"
)

type config struct {
	bin, addr, profileDir, index, bulkDir string
	rounds                                int
	cpu                                   cpuMeter
	// encryptionOnly skips every step but the encryption comparison.
	encryptionOnly bool
	// encodeOnly skips every step but the encode-workers comparison.
	encodeOnly    bool
	encodeWorkers int // N of the encode-workers comparison
}

func main() {
	var cfg config
	flag.StringVar(&cfg.bin, "milvault", "bin/milvault", "milvault binary")
	flag.StringVar(&cfg.addr, "milvus", "127.0.0.1:19541", "Milvus address")
	flag.StringVar(&cfg.index, "index", "HNSW", "vector index of the seeded collection: HNSW (M=16, efConstruction=64), IVF_FLAT (nlist=1024) or FLAT (no build; for memory runs at 1M rows)")
	flag.IntVar(&cfg.rounds, "rounds", 1, "measure the raw query drain and the backup this many times, alternately")
	flag.IntVar(&cfg.cpu.serverPgid, "server-pgid", 0, "process group of the Milvus server, to report its CPU time per step (0: not reported)")
	flag.StringVar(&cfg.profileDir, "profile-dir", "", "write a CPU profile of an in-process backup to backup-<rows>.cpu.pprof here (empty: no profile)")
	flag.StringVar(&cfg.bulkDir, "bulk-import-dir", "", "staging directory for the bulk import restore, readable by the server (empty: a temporary directory, for a server on this machine)")
	flag.BoolVar(&cfg.encryptionOnly, "encryption-only", false, "seed, then measure only backup and restore with encryption on and off")
	flag.BoolVar(&cfg.encodeOnly, "encode-only", false, "seed, then measure only backups with --encode-workers 1 and -encode-workers")
	flag.IntVar(&cfg.encodeWorkers, "encode-workers", 0, "N of the --encode-workers 1 vs N comparison (0: the backup default, at least 2)")
	sizes := flag.String("rows", "200000", "comma-separated row counts")
	segAxis := flag.String("segment-axis", "", "only seed the first row count and measure the raw query drain and the backup, appending one line per round, labelled with this name, to -segment-results (see segments.go)")
	segResults := flag.String("segment-results", "", "file the -segment-axis runs append to")
	segReport := flag.Bool("segment-report", false, "render the -segment-results file (with -out: append it there too) and exit")
	out := flag.String("out", "", "append the results as markdown to this file")
	flag.Parse()
	if cfg.encodeWorkers <= 0 {
		cfg.encodeWorkers = defaultBenchEncodeWorkers()
	}
	if _, ok := indexParams[cfg.index]; !ok {
		fail(fmt.Errorf("unknown -index %q: use HNSW, IVF_FLAT or FLAT", cfg.index))
	}
	ctx := context.Background()
	if *segAxis != "" || *segReport {
		segmentMode(ctx, cfg, *sizes, *segAxis, *segResults, *out, *segReport)
		return
	}
	var md strings.Builder
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			fail(fmt.Errorf("bad row count %q", s))
		}
		r, err := measure(ctx, cfg, n)
		if err != nil {
			fail(err)
		}
		md.WriteString(render(r))
	}
	fmt.Print(md.String())
	if *out != "" {
		if err := appendFile(*out, md.String()); err != nil {
			fail(err)
		}
	}
}

// segmentMode runs the -segment-axis and -segment-report modes.
func segmentMode(ctx context.Context, cfg config, sizes, label, results, out string, report bool) {
	if results == "" {
		fail(fmt.Errorf("-segment-axis and -segment-report need -segment-results"))
	}
	if report {
		md, err := renderSegments(results)
		if err != nil {
			fail(err)
		}
		fmt.Print(md)
		if out != "" {
			if err := appendFile(out, md); err != nil {
				fail(err)
			}
		}
		return
	}
	n, err := strconv.Atoi(strings.TrimSpace(strings.Split(sizes, ",")[0]))
	if err != nil || n <= 0 {
		fail(fmt.Errorf("bad row count %q", sizes))
	}
	if err := measureSegments(ctx, cfg, n, label, results); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	os.Exit(1)
}

func appendFile(path, text string) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench %s: "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

func measure(ctx context.Context, cfg config, rows int) (*result, error) {
	r := &result{rows: rows}
	c, err := milvus.Connect(ctx, milvus.Config{Address: cfg.addr})
	if err != nil {
		return nil, err
	}
	defer c.Close()
	repoDir, err := os.MkdirTemp("", "milvault-bench-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(repoDir)
	coll := fmt.Sprintf("bench_%d", rows)
	raw, restored, bulk, full := coll+"_raw", coll+"_restored", coll+"_bulk", coll+"_full"
	for _, name := range []string{coll, raw, restored, bulk, full} {
		if err := dropIfExists(ctx, c, name); err != nil {
			return nil, err
		}
	}
	defer func() {
		for _, name := range []string{coll, raw, restored, bulk, full} {
			_ = dropIfExists(context.Background(), c, name)
		}
	}()

	logf("seeding %d rows into %s", rows, coll)
	sr, err := seed(ctx, c, coll, rows, cfg.index)
	if err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	r.rawBytes = sr.rawBytes
	r.add(step{name: "seed: Insert RPCs (12 MiB batches, 1 worker) + flush", secs: sr.insertSecs, rows: int64(rows), bytes: sr.rawBytes})
	r.add(step{name: "seed: " + cfg.index + " index + load", secs: sr.indexSecs, rows: int64(rows), bytes: sr.rawBytes})
	if cfg.encryptionOnly {
		r.rounds = max(1, cfg.rounds)
		return r, encryptionSteps(ctx, c, cfg, r, coll)
	}
	if cfg.encodeOnly {
		r.rounds, r.encodeWorkers = max(1, cfg.rounds), cfg.encodeWorkers
		return r, encodeSteps(ctx, cfg, r, coll)
	}

	logf("raw query drain")
	sp := cfg.cpu.start()
	n, secs, err := queryDrain(ctx, c, coll)
	if err != nil {
		return nil, fmt.Errorf("query drain: %w", err)
	}
	if n != int64(rows) {
		return nil, fmt.Errorf("query drain read %d rows, want %d", n, rows)
	}
	st := step{name: stepQuery, secs: secs, rows: n, bytes: r.rawBytes}
	st.cpu, st.serverCPU = sp.end()
	r.add(st)

	base := []string{"--milvus", cfg.addr, "--repo", repoDir, "-q"}
	logf("milvault backup")
	s, err := child(ctx, cfg.cpu, stepBackup, cfg.bin, append(base, "backup", "--init", "-c", coll, "--name", "b")...)
	if err != nil {
		return nil, err
	}
	s.rows, s.bytes = int64(rows), r.rawBytes
	r.add(s)
	r.backupBytes = dirSize(filepath.Join(repoDir, "data"))
	if err := moreRounds(ctx, c, cfg, r, coll, base); err != nil {
		return nil, err
	}

	if cfg.profileDir != "" {
		path := filepath.Join(cfg.profileDir, fmt.Sprintf("backup-%d.cpu.pprof", rows))
		logf("profiled in-process backup -> %s", path)
		if r.profileSecs, err = profiledBackup(ctx, c, coll, path); err != nil {
			return nil, err
		}
		if r.profileTop, err = topFunctions(path, 10); err != nil {
			return nil, err
		}
	}

	logf("sequential read and verify")
	read, secs, err := readFiles(filepath.Join(repoDir, "data"))
	if err != nil {
		return nil, err
	}
	r.add(step{name: stepRead, secs: secs, rows: int64(rows), bytes: read})
	if s, err = child(ctx, cfg.cpu, stepVerify, cfg.bin, append(base, "verify", "b")...); err != nil {
		return nil, err
	}
	s.rows, s.bytes = int64(rows), r.backupBytes
	r.add(s)

	logf("raw insert drain into %s", raw)
	ins, flushed, cpu, err := insertDrain(ctx, c, cfg.cpu, raw, rows)
	if err != nil {
		return nil, fmt.Errorf("insert drain: %w", err)
	}
	r.add(step{name: stepInsert, secs: ins, rows: int64(rows), bytes: r.rawBytes, cpu: -1, serverCPU: -1})
	r.add(step{name: stepInsertF, secs: flushed, rows: int64(rows), bytes: r.rawBytes, cpu: cpu[0], serverCPU: cpu[1]})
	if err := dropIfExists(ctx, c, raw); err != nil {
		return nil, err
	}

	logf("milvault restore --no-indexes --no-load")
	if s, err = child(ctx, cfg.cpu, stepRestoreRaw, cfg.bin, append(base, "restore", "b", "--target", restored, "--no-indexes", "--no-load")...); err != nil {
		return nil, err
	}
	s.rows, s.bytes = int64(rows), r.rawBytes
	r.add(s)
	if err := dropIfExists(ctx, c, restored); err != nil {
		return nil, err
	}

	if err := bulkRestore(ctx, c, cfg, r, base, bulk); err != nil {
		return nil, err
	}

	logf("milvault restore (index + load)")
	if s, err = child(ctx, cfg.cpu, stepRestore, cfg.bin, append(base, "restore", "b", "--target", full)...); err != nil {
		return nil, err
	}
	s.rows, s.bytes = int64(rows), r.rawBytes
	r.add(s)
	if err := encryptionSteps(ctx, c, cfg, r, coll); err != nil {
		return nil, err
	}
	r.encodeWorkers = cfg.encodeWorkers
	if err := encodeSteps(ctx, cfg, r, coll); err != nil {
		return nil, err
	}
	logf("done")
	return r, nil
}

// bulkRestore measures the bulk import restore when the server has bulk
// import (--bulk-import-strict, so that a fallback to inserts is not
// measured as an import).
func bulkRestore(ctx context.Context, c *milvus.Client, cfg config, r *result, base []string, target string) error {
	ok, err := c.CanImport(ctx)
	if err != nil {
		return err
	}
	if !ok {
		logf("skipping %s: Milvus %s has no bulk import", stepRestoreBulk, c.Version())
		return nil
	}
	dir := cfg.bulkDir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "milvault-bench-import-*"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	}
	logf("%s", stepRestoreBulk)
	s, err := child(ctx, cfg.cpu, stepRestoreBulk, cfg.bin, append(base, "restore", "b", "--target", target, "--no-indexes", "--no-load", "--bulk-import", dir, "--bulk-import-strict")...)
	if err != nil {
		return err
	}
	s.rows, s.bytes = int64(r.rows), r.rawBytes
	r.add(s)
	return dropIfExists(ctx, c, target)
}

// moreRounds repeats the raw query drain and the backup, alternately,
// cfg.rounds-1 more times, so that the spread of the server's own speed
// between runs of the same queries shows next to the ratio.
func moreRounds(ctx context.Context, c *milvus.Client, cfg config, r *result, coll string, base []string) error {
	for k := 2; k <= cfg.rounds; k++ {
		logf("round %d: raw query drain and backup", k)
		sp := cfg.cpu.start()
		n, secs, err := queryDrain(ctx, c, coll)
		if err != nil {
			return fmt.Errorf("query drain: %w", err)
		}
		st := step{name: roundName(stepQuery, k), secs: secs, rows: n, bytes: r.rawBytes}
		st.cpu, st.serverCPU = sp.end()
		r.add(st)
		s, err := child(ctx, cfg.cpu, roundName(stepBackup, k), cfg.bin, append(base, "backup", "-c", coll, "--name", fmt.Sprintf("round%d", k))...)
		if err != nil {
			return err
		}
		s.rows, s.bytes = int64(r.rows), r.rawBytes
		r.add(s)
	}
	r.rounds = max(1, cfg.rounds)
	return nil
}

func roundName(step string, k int) string { return fmt.Sprintf("%s, round %d", step, k) }

func dropIfExists(ctx context.Context, c *milvus.Client, name string) error {
	ok, err := c.HasCollection(ctx, "default", name)
	if err != nil || !ok {
		return err
	}
	return c.DropCollection(ctx, "default", name)
}

// child runs the milvault binary and measures its wall time and peak RSS.
//
// The peak is the child's VmHWM, sampled from /proc while it runs, not
// rusage's ru_maxrss: Go starts children with vfork semantics (the child
// shares this process's memory until exec) and Linux carries that memory's
// high-water mark into the child's ru_maxrss at exec, so rusage would report
// at least this benchmark's own peak (over 1 GiB after the insert drain).
func child(ctx context.Context, m cpuMeter, name, bin string, args ...string) (step, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	sp := m.start()
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return step{name: name}, err
	}
	done := make(chan struct{})
	peak := make(chan int64, 1)
	go func() { peak <- samplePeakRSS(cmd.Process.Pid, done) }()
	err := cmd.Wait()
	close(done)
	s := step{name: name, secs: time.Since(start).Seconds(), rss: <-peak}
	_, s.serverCPU = sp.end()
	s.cpu = (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds()
	if err != nil {
		return s, fmt.Errorf("%s %s: %v: %s", bin, strings.Join(args, " "), err, stderr.String())
	}
	return s, nil
}

// samplePeakRSS reads VmHWM (KiB) of pid every 10 ms until done is closed
// and returns the largest value seen. VmHWM only grows, so at most the last
// 10 ms of growth can be missed.
func samplePeakRSS(pid int, done <-chan struct{}) int64 {
	var peak int64
	path := fmt.Sprintf("/proc/%d/status", pid)
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		if b, err := os.ReadFile(path); err == nil {
			peak = max(peak, vmHWM(b))
		}
		select {
		case <-done:
			return peak
		case <-t.C:
		}
	}
}

// vmHWM extracts the VmHWM field (KiB) of a /proc/<pid>/status file.
func vmHWM(status []byte) int64 {
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return 0
}
