package native_test

import (
	"context"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/local"
)

// buildCLI builds the milvault binary for tests that kill it.
func buildCLI(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "milvault")
	cmd := exec.Command("go", "build", "-o", bin, "../cmd/milvault")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build milvault: %v\n%s", err, out)
	}
	return bin
}

// killAfter runs the CLI and kills it with SIGKILL after d (if it still runs).
func killAfter(t *testing.T, bin string, d time.Duration, args ...string) (killed bool) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = os.Environ()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
		return false
	case <-time.After(d):
		_ = cmd.Process.Signal(syscall.SIGKILL)
		<-done
		return true
	}
}

// openRepo opens the test repository at dir afresh (as a new process would).
func openRepo(t *testing.T, dir string) *repo.Repository {
	t.Helper()
	s, err := local.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	r, err := repo.Open(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// listedVerify fails the test when a listed backup fails verify.
func listedVerify(t *testing.T, dir string) []*manifest.Manifest {
	t.Helper()
	r := openRepo(t, dir)
	ms, problems, err := r.List(context.Background())
	if err != nil || len(problems) > 0 {
		t.Fatalf("list: %v %v", err, problems)
	}
	for _, m := range ms {
		if rep := checksumOK(t, r, m); !rep.OK {
			t.Fatalf("listed backup %s fails verify: %+v", m.ID, rep)
		}
	}
	return ms
}

// TestNativeKillTrials kills `milvault backup --mode native` and
// `milvault delete` with SIGKILL at random points; no listed backup may
// ever fail verify, and the leftovers are collected by a later delete.
func TestNativeKillTrials(t *testing.T) {
	e := setup(t)
	trials := 6 // CI; MILVAULT_NATIVE_KILL_TRIALS=20 for the figure
	if n, err := strconv.Atoi(os.Getenv("MILVAULT_NATIVE_KILL_TRIALS")); err == nil && n > 0 {
		trials = n
	}
	name := makeCollection(t, e.c, 2000)
	bin := buildCLI(t)
	dir := filepath.Join(t.TempDir(), "repo")
	base := []string{"--milvus", e.c.Address(), "--repo", dir, "-q"}
	if out, err := exec.Command(bin, append(base, "init")...).CombinedOutput(); err != nil {
		t.Fatalf("init: %v\n%s", err, out)
	}
	t.Setenv("MILVAULT_MILVUS_STORAGE", e.loc)
	backupArgs := append(append([]string{}, base...), "backup", "-c", name, "--mode", "native", "--milvus-metrics", "none")
	start := time.Now()
	if out, err := exec.Command(bin, backupArgs...).CombinedOutput(); err != nil {
		t.Fatalf("backup: %v\n%s", err, out)
	}
	clean := time.Since(start)
	killedBackups, killedDeletes := 0, 0
	for i := range trials {
		insertRows(t, e.c, name, "p1", 10000+i*50, 10000+i*50+50, "k") // new segment files each round
		if i%2 == 0 {
			if killAfter(t, bin, time.Duration(rand.Int64N(int64(clean))), backupArgs...) {
				killedBackups++
			}
			listedVerify(t, dir)
			continue
		}
		if out, err := exec.Command(bin, append(backupArgs, "--lock-wait", "30s")...).CombinedOutput(); err != nil {
			t.Fatalf("backup: %v\n%s", err, out)
		}
		ms := listedVerify(t, dir)
		del := append(append([]string{}, base...), "delete", "-y", "--lock-wait", "30s", ms[len(ms)-1].ID)
		// A delete of a local repository takes a few milliseconds after
		// the process starts.
		if killAfter(t, bin, time.Duration(rand.Int64N(int64(120*time.Millisecond))), del...) {
			killedDeletes++
		}
		listedVerify(t, dir)
	}
	t.Logf("%d trials: %d backups and %d deletes killed part-way (a clean backup took %s)", trials, killedBackups, killedDeletes, clean)
	// A clean backup and delete collect every leftover.
	if out, err := exec.Command(bin, append(backupArgs, "--lock-wait", "30s")...).CombinedOutput(); err != nil {
		t.Fatalf("backup after the trials: %v\n%s", err, out)
	}
	ms := listedVerify(t, dir)
	if out, err := exec.Command(bin, append(append([]string{}, base...), "delete", "-y", "--lock-wait", "30s", ms[len(ms)-1].ID)...).CombinedOutput(); err != nil {
		t.Fatalf("delete after the trials: %v\n%s", err, out)
	}
	ms = listedVerify(t, dir)
	assertNoLeftoverBlobs(t, dir, ms)
}

// assertNoLeftoverBlobs checks that every stored content-addressed file is
// referenced by a listed backup.
func assertNoLeftoverBlobs(t *testing.T, dir string, ms []*manifest.Manifest) {
	t.Helper()
	used := map[string]bool{}
	for _, m := range ms {
		for _, f := range m.Files() {
			used[filepath.FromSlash(f.Path)] = true
		}
	}
	var extra []string
	filepath.WalkDir(filepath.Join(dir, "blobs"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			if !used[rel] && !strings.HasPrefix(d.Name(), ".") {
				extra = append(extra, rel)
			}
		}
		return nil
	})
	if len(extra) > 0 {
		t.Fatalf("%d unreferenced segment files left after a clean delete: %v", len(extra), extra)
	}
}

// TestNativeCLI drives the commands a person uses: backup --mode auto,
// show, restore --milvus-storage, convert, freeze and thaw.
func TestNativeCLI(t *testing.T) {
	e := setup(t)
	name := makeCollection(t, e.c, 1000)
	bin := buildCLI(t)
	dir := filepath.Join(t.TempDir(), "repo")
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, append([]string{"--milvus", e.c.Address(), "--repo", dir}, args...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("milvault %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	run("init")
	if out := run("backup", "-c", name, "--name", "nat", "--mode", "auto", "--milvus-storage", e.loc, "--milvus-metrics", "none"); !strings.Contains(out, "backup mode: native") {
		t.Fatalf("backup --mode auto did not say it took a native backup:\n%s", out)
	}
	if out := run("show", "nat"); !strings.Contains(out, "shared with other backups") {
		t.Fatalf("show of a native backup tells no sharing:\n%s", out)
	}
	target := name + "_cli"
	t.Cleanup(func() { e.c.DropCollection(context.Background(), "default", target) })
	if out := run("restore", "nat", "--target", target, "--milvus-storage", e.loc); !strings.Contains(out, "restored") {
		t.Fatalf("restore:\n%s", out)
	}
	if ok, err := e.c.HasCollection(context.Background(), "default", target); err != nil || !ok {
		t.Fatalf("restore created no %s (%v)", target, err)
	}
	run("convert", "nat", "--name", "logical")
	if out := run("verify", "logical", "--mode", "quick"); !strings.Contains(out, "PASSED") {
		t.Fatalf("quick verify of the converted backup:\n%s", out)
	}
	metrics := "none" // never the default port: it may be another server's
	if e.gc != nil {
		metrics = e.gc.URL
	}
	if out := run("freeze", "-c", name, "--for", "1m", "--milvus-metrics", metrics); !strings.Contains(out, "flush timestamp") {
		t.Fatalf("freeze:\n%s", out)
	}
	if metrics != "none" {
		run("thaw", "--milvus-metrics", metrics)
	}
}
