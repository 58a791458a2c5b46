package service_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/milvault/milvault/internal/testenv"
	"github.com/milvault/milvault/jobs"
	"github.com/milvault/milvault/milvus"
	"github.com/milvault/milvault/service"
)

// TestKilledServeResumes: `milvault serve` is killed (SIGKILL) while its
// policy's backup of the real Milvus stores data files; the next run of
// the policy, by another service process, finishes that backup, says so,
// and the backup holds every row once (row count checked against the
// server by the backup, then a deep verification).
func TestKilledServeResumes(t *testing.T) {
	tg := testenv.Targets(t)[0]
	ctx := context.Background()
	c, err := milvus.Connect(ctx, milvus.Config{Address: tg.Address})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const rows = 60000
	coll := testenv.Collection(t, c, "killserve", rows, 64)
	repoDir := localRepo(t)
	cfgPath := filepath.Join(t.TempDir(), "serve.yaml")
	writeResumeConfig(t, cfgPath, tg.Address, repoDir, coll)
	bin := filepath.Join(t.TempDir(), "milvault")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/milvault").CombinedOutput(); err != nil {
		t.Fatalf("build milvault: %v\n%s", err, out)
	}
	listen := testenv.FreeAddr(t)
	cmd := exec.Command(bin, "serve", "--config", cfgPath, "--listen", listen)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	waitFor(t, "serve to listen", 30*time.Second, func() bool {
		resp, err := http.Get("http://" + listen + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil
	})
	resp, err := http.Post("http://"+listen+"/api/v1/jobs", "application/json", strings.NewReader(`{"kind":"backup","policy":"p"}`))
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("start the policy: %v %v", resp, err)
	}
	resp.Body.Close()
	waitFor(t, "3 stored data files", 60*time.Second, func() bool { return dataFiles(repoDir) >= 3 })
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	stored := dataFiles(repoDir)

	svc := resumeServiceFrom(t, cfgPath)
	j := finished(t, svc, startPolicy(t, svc).ID)
	var res service.PolicyResult
	if err := json.Unmarshal(j.Result, &res); err != nil || j.State != jobs.StateSucceeded {
		t.Fatalf("the run after the kill: %s %s %s", j.State, j.Error, j.Result)
	}
	var n int
	if _, err := fmt.Sscanf(res.Resumed, "resumed backup "+res.BackupID+", reused %d files", &n); err != nil || n == 0 || n > stored || res.Rows != rows {
		t.Fatalf("result %s: want a resumed backup of %d rows reusing at most the %d data files stored", j.Result, rows, stored)
	}
	vj, err := svc.RunVerification("p")
	if err != nil {
		t.Fatal(err)
	}
	v := finished(t, svc, vj.ID)
	var vr service.VerifyResult
	if err := json.Unmarshal(v.Result, &vr); err != nil || !vr.OK || vr.Rows != rows {
		t.Fatalf("deep verification of the resumed backup: %s %s %s", v.State, v.Error, v.Result)
	}
	t.Logf("serve killed with %d data files stored; the next run resumed %s reusing %d", stored, res.BackupID, n)
}

// dataFiles counts the data files stored in the local repository dir.
func dataFiles(dir string) int {
	n := 0
	filepath.WalkDir(filepath.Join(dir, "data"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".parquet") {
			n++
		}
		return nil
	})
	return n
}
