package e2e

import (
	"bytes"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/milvault/milvault/internal/fixture"
)

// TestReconnectAfterMilvusRestart stops the real Milvus 2.3.5 in the middle
// of a backup taken with --reconnect (the backup process is paused while the
// server stops, so that the stop lands mid-scan), starts it again on its
// data a few seconds later, and checks that the same backup process carried
// on and committed one backup (exit 0, no --resume), which verifies and
// restores equal to the source.
func TestReconnectAfterMilvusRestart(t *testing.T) {
	e := newEnv(t, restartTarget(t))
	bin := binary(t, e.root)
	name := uniqueName("reconnect")
	e.createFixture(t, fixture.Options{Name: name, Rows: 20000, Dim: 64, Seed: 11})
	source := e.dump(t, name)
	repo := newRepo(t)
	cmd := exec.Command(bin, "--milvus", e.addr, "--repo", repo, "backup", "-c", name,
		"--chunk-size", "64KiB", "--scan-workers", "1", "--reconnect", "5m")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitForJournal(t, repo, 0)
	if err := cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	e.milvusEnv(t, false, "stop", "milvus23")
	if err := cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second) // the backup sees the server gone and waits
	e.milvusEnv(t, true, "start", "milvus23")
	if err := cmd.Wait(); err != nil {
		t.Fatalf("backup across a Milvus restart with --reconnect: %v, stderr %q", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "answers again") {
		t.Fatalf("the backup did not go through a reconnect (stderr %q): the stop missed the scan, the test proves nothing", stderr.String())
	}
	for _, line := range strings.Split(stderr.String(), "\n") {
		if strings.Contains(line, "answers again") {
			t.Log(line)
		}
	}
	ids := e.listIDs(t, repo)
	if len(ids) != 1 {
		t.Fatalf("list after the reconnect shows %v, want one backup", ids)
	}
	e.mustRun(t, repo, "verify", ids[0])
	target := name + "_r"
	e.dropLater(t, target)
	e.mustRun(t, repo, "restore", ids[0], "--target", target)
	sameDump(t, "restored from the backup that reconnected after a Milvus restart vs source", e.dump(t, target), source)
}
