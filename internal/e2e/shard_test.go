package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/milvault/milvault/internal/fixture"
)

// TestShardedBackup writes one backup with 2 and with 4 milvault processes
// (backup --shards N, then --shard I/N in parallel, then --commit) and
// checks that it verifies and restores equal to the source (and, with 2,
// to a single-process backup of the same collection). With 2 shards
// it first kills shard 1 mid-way: the commit then refuses naming shard 1,
// a normal backup's cleanup leaves the sharded backup alone, and rerunning
// shard 1 alone completes it.
func TestShardedBackup(t *testing.T) {
	for _, tg := range targets(t) {
		t.Run(tg.name, func(t *testing.T) {
			e := newEnv(t, tg.addr)
			e.testShardedBackup(t, 2, false)
			e.testShardedBackup(t, 4, true)
		})
	}
}

func (e *env) testShardedBackup(t *testing.T, n int, varchar bool) {
	bin := binary(t, e.root)
	name := uniqueName("shard")
	e.createFixture(t, fixture.Options{Name: name, Rows: 20000, Dim: 64, Seed: 11, VarCharPK: varchar})
	repo := newRepo(t)
	var begun struct {
		ID string `json:"id"`
	}
	out := e.mustRun(t, repo, "--json", "backup", "-c", name, "--shards", fmt.Sprint(n), "--chunk-size", "64KiB")
	if err := json.Unmarshal([]byte(out.stdout), &begun); err != nil || begun.ID == "" {
		t.Fatalf("backup --shards printed %q: %v", out.stdout, err)
	}
	id := begun.ID
	shardArgs := func(i int) []string {
		return []string{"--milvus", e.addr, "--repo", repo, "-q", "backup", "--backup-id", id, "--shard", fmt.Sprintf("%d/%d", i, n), "--scan-workers", "1", "--encode-workers", "3"}
	}
	if n == 2 {
		e.killShard(t, bin, shardArgs(1), filepath.Join(repo, "data", id))
	}
	var cmds []*exec.Cmd
	for i := range n {
		if n == 2 && i == 1 {
			continue
		}
		cmd := exec.Command(bin, shardArgs(i)...)
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	for _, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Fatalf("shard %v: %v", c.Args, err)
		}
	}
	if n == 2 {
		expectFailure(t, e.milvault(t, repo, "backup", "--commit", id), 3, "shards [1] of 2 have not finished")
		e.mustRun(t, repo, "backup", "-c", name, "--name", "plain") // cleans up interrupted backups first
		if _, err := os.Stat(filepath.Join(repo, "data", id, "shards", "plan.json")); err != nil {
			t.Fatalf("a normal backup's cleanup removed the unfinished sharded backup: %v", err)
		}
		r := e.mustRun(t, repo, shardArgs(1)[4:]...)
		t.Logf("rerun of shard 1: %s", r.stdout)
	}
	expectFailure(t, e.milvault(t, repo, "backup", "--backup-id", id, "--shard", "0/2", "-c", name), 2, "belong to the begin step")
	e.mustRun(t, repo, "backup", "--commit", id, "--verify")
	for i := range n {
		if len(dataFiles(t, filepath.Join(repo, "data", id, "default", name, "_default", fmt.Sprintf("shard-%04d", i)))) == 0 {
			t.Errorf("shard %d stored no data file", i)
		}
	}
	e.mustRun(t, repo, "verify", id)
	source := e.dump(t, name)
	target := name + "_r"
	e.dropLater(t, target)
	e.mustRun(t, repo, "restore", id, "--target", target)
	restored := e.dump(t, target)
	sameDump(t, fmt.Sprintf("restored from the %d-shard backup vs source", n), restored, source)
	if n == 2 { // the single-process backup taken meanwhile restores the same rows
		plain := name + "_p"
		e.dropLater(t, plain)
		e.mustRun(t, repo, "restore", "plain", "--target", plain)
		sameDump(t, "restored from the 2-shard backup vs the single-process one", restored, e.dump(t, plain))
	}
}

// killShard starts a shard and kills it (SIGKILL) once it has stored two
// data files, before it finishes.
func (e *env) killShard(t *testing.T, bin string, args []string, dir string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) && len(shardFiles(t, dir, "shard-0001")) < 2 {
		time.Sleep(2 * time.Millisecond)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	if _, err := os.Stat(filepath.Join(dir, "shards", "shard-0001.json")); err == nil {
		t.Fatal("shard 1 finished before the kill; nothing was tested")
	}
	if len(shardFiles(t, dir, "shard-0001")) == 0 {
		t.Fatal("shard 1 stored nothing before the kill; nothing was tested")
	}
}

func shardFiles(t *testing.T, dir, shard string) []string {
	var out []string
	for _, f := range dataFiles(t, dir) {
		if strings.Contains(f, shard+"/") {
			out = append(out, f)
		}
	}
	return out
}
