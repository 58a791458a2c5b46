package e2e

import (
	"bytes"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/milvault/milvault/internal/fixture"
)

// restartEnv, set to 1, lets TestResumeAfterMilvusRestart stop and start
// the shared Milvus 2.3.5; scripts/test.sh sets it for a run of that test
// alone, after the suite, since other packages' tests use the same server.
const restartEnv = "MILVAULT_TEST_RESTART_MILVUS"

// restartTarget returns the address of the Milvus 2.3.5 a test may stop
// and start again, or skips the test when it may not (restartEnv unset)
// or there is none.
func restartTarget(t *testing.T) string {
	t.Helper()
	if os.Getenv(restartEnv) != "1" {
		t.Skipf("%s is not 1: the test restarts the shared Milvus 2.3.5 (scripts/test.sh runs it alone after the suite)", restartEnv)
	}
	for _, tg := range targets(t) {
		if tg.name == "milvus23" {
			return tg.addr
		}
	}
	t.Skip("no milvus23 in MILVAULT_TEST_TARGETS: the test restarts Milvus 2.3.5 with scripts/milvus-env.sh")
	return ""
}

// TestResumeAfterMilvusRestart stops the real Milvus 2.3.5 in the middle of
// a backup (the backup process is paused while the server stops, so that
// the stop lands mid-scan), starts it again on its data, and checks that
// the backup failed cleanly with exit code 4, keeping its stored files and
// saying to resume; that `backup --resume` completes it; and that the result
// verifies and restores equal to the source.
func TestResumeAfterMilvusRestart(t *testing.T) {
	e := newEnv(t, restartTarget(t))
	bin := binary(t, e.root)
	name := uniqueName("restart")
	e.createFixture(t, fixture.Options{Name: name, Rows: 20000, Dim: 64, Seed: 9})
	source := e.dump(t, name)
	repo := newRepo(t)
	args := []string{"backup", "-c", name, "--chunk-size", "64KiB", "--scan-workers", "1"}
	cmd := exec.Command(bin, append([]string{"--milvus", e.addr, "--repo", repo, "-q"}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	journal := waitForJournal(t, repo, 0)
	if err := cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	e.milvusEnv(t, false, "stop", "milvus23")
	if err := cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 4 || !strings.Contains(stderr.String(), "--resume") {
		t.Fatalf("backup with Milvus stopped: %v, stderr %q; want exit code 4 and advice to resume", err, stderr.String())
	}
	stored := dataFiles(t, filepath.Dir(journal))
	e.milvusEnv(t, true, "start", "milvus23")
	e.waitFlushable(t, name)
	e.mustRun(t, repo, append(args, "--resume")...)
	resumed := filepath.Base(filepath.Dir(journal))
	if ids := e.listIDs(t, repo); len(ids) != 1 || ids[0] != resumed {
		t.Fatalf("list after the resume shows %v, want only the resumed backup %s", ids, resumed)
	}
	e.mustRun(t, repo, "verify", resumed)
	target := name + "_r"
	e.dropLater(t, target)
	e.mustRun(t, repo, "restore", resumed, "--target", target)
	sameDump(t, "restored from the backup resumed after a Milvus restart vs source", e.dump(t, target), source)
	t.Logf("Milvus stopped after %d stored files; resumed %s after the restart", len(stored), resumed)
}

// milvusEnv runs scripts/milvus-env.sh for the server at e.addr (its port
// from the address, the rest from this process's environment), on its old
// data when keep is set.
func (e *env) milvusEnv(t *testing.T, keep bool, args ...string) {
	t.Helper()
	_, port, err := net.SplitHostPort(e.addr)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", append([]string{filepath.Join(e.root, "scripts", "milvus-env.sh")}, args...)...)
	cmd.Dir = e.root
	cmd.Env = append(os.Environ(), "MILVUS23_PORT="+port)
	if keep {
		cmd.Env = append(cmd.Env, "MILVUS23_KEEP_DATA=1")
	}
	out, err := cmd.CombinedOutput()
	t.Logf("milvus-env.sh %s: %s", strings.Join(args, " "), out)
	if err != nil {
		t.Fatalf("milvus-env.sh %s: %v", strings.Join(args, " "), err)
	}
}

// waitFlushable waits until the restarted server flushes coll: for a while
// after a restart, Milvus 2.3.5 answers but refuses flushes (its data
// node's old session has not expired: "node not match").
func (e *env) waitFlushable(t *testing.T, coll string) {
	t.Helper()
	ctx := testContext(t)
	deadline := time.Now().Add(3 * time.Minute)
	for {
		_, err := e.client.Flush(ctx, "default", coll)
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the restarted server still refuses to flush %s: %v", coll, err)
		}
		time.Sleep(2 * time.Second)
	}
}
