package service_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/milvault/milvault/internal/testenv"
	"github.com/milvault/milvault/jobs"
	"github.com/milvault/milvault/milvus"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/local"
	"github.com/milvault/milvault/service"
)

// TestPolicyResumesInterruptedBackup: a policy's backup of the real Milvus
// loses Milvus (a proxy in between stops) after it stored data files; the
// job fails and the backup is kept. Milvus comes back and the next run of
// the policy finishes that backup instead of starting over, says so in
// its result, and the backup holds every row exactly once (count checked
// against the server, then a deep verification restores and compares it).
func TestPolicyResumesInterruptedBackup(t *testing.T) {
	tg := testenv.Targets(t)[0]
	ctx := context.Background()
	c, err := milvus.Connect(ctx, milvus.Config{Address: tg.Address})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const rows = 60000
	coll := testenv.Collection(t, c, "resume", rows, 64)
	px := newProxy(t, tg.Address)
	svc := resumeService(t, px.addr, localRepo(t), coll)

	first := startPolicy(t, svc)
	waitFor(t, "the first data files", 60*time.Second, func() bool {
		j, _ := svc.Jobs().Get(first.ID)
		return j.Progress.Bytes > 0 || j.State.Final()
	})
	px.Stop()
	j := finished(t, svc, first.ID)
	if j.State != jobs.StateFailed {
		t.Fatalf("the run that lost Milvus ended %s (%s): the proxy stopped too late, the backup was already done", j.State, j.Result)
	}
	px.Start()
	second := finished(t, svc, startPolicy(t, svc).ID)
	if second.State != jobs.StateSucceeded {
		t.Fatalf("the run after Milvus came back: %s %s", second.State, second.Error)
	}
	var res service.PolicyResult
	if err := json.Unmarshal(second.Result, &res); err != nil {
		t.Fatal(err)
	}
	var n int
	if _, err := fmt.Sscanf(res.Resumed, "resumed backup "+res.BackupID+", reused %d files", &n); err != nil || n == 0 {
		t.Fatalf("result %s does not say it resumed backup %s with reused files", second.Result, res.BackupID)
	}
	if res.Rows != rows || res.Mode != "logical" {
		t.Fatalf("resumed backup: %d rows in mode %q, want %d logical", res.Rows, res.Mode, rows)
	}
	vj, err := svc.RunVerification("p")
	if err != nil {
		t.Fatal(err)
	}
	v := finished(t, svc, vj.ID)
	var vr service.VerifyResult
	if err := json.Unmarshal(v.Result, &vr); err != nil || v.State != jobs.StateSucceeded || !vr.OK || vr.Rows != rows || vr.Mode != "deep" {
		t.Fatalf("deep verification of the resumed backup: %s %s %s", v.State, v.Error, v.Result)
	}
	t.Logf("resumed backup %s: reused %d files; deep verification restored and compared %d rows", res.BackupID, n, vr.Rows)
}

// localRepo initializes a repository in a temporary folder.
func localRepo(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	s, err := local.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := repo.OpenOrInit(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	return dir
}

// resumeService runs a service with policy p backing up coll in small
// files (so that it is interrupted between files), one stream at a time.
func resumeService(t *testing.T, milvusAddr, repoURL, coll string) *service.Service {
	t.Helper()
	path := filepath.Join(t.TempDir(), "serve.yaml")
	writeResumeConfig(t, path, milvusAddr, repoURL, coll)
	return resumeServiceFrom(t, path)
}

// writeResumeConfig writes that service's configuration to path.
func writeResumeConfig(t *testing.T, path, milvusAddr, repoURL, coll string) {
	t.Helper()
	cfgText := fmt.Sprintf(`state_dir: %s
milvus:
  main: {address: %q}
repositories:
  r: {url: %q}
policies:
  p:
    repository: r
    collections: [%s]
    schedule: "@every 1h"
    run_missed: false
    backup: {chunk_size: 64KiB, compression: none, scan_workers: 1}
    verify: none
    verification: {schedule: "@every 1h", mode: deep}
`, t.TempDir(), milvusAddr, repoURL, coll)
	if err := os.WriteFile(path, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
}

// resumeServiceFrom runs a service with the configuration at path.
func resumeServiceFrom(t *testing.T, path string) *service.Service {
	t.Helper()
	cfg, err := service.LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := service.New(cfg, service.Options{Registry: prometheus.NewRegistry(), Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(context.Background())
	go svc.Run(runCtx)
	t.Cleanup(func() { stop(); svc.Shutdown() })
	return svc
}

func startPolicy(t *testing.T, svc *service.Service) jobs.Job {
	t.Helper()
	j, err := svc.RunPolicy("p")
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// finished waits for job id to end and returns it.
func finished(t *testing.T, svc *service.Service, id string) jobs.Job {
	t.Helper()
	var j jobs.Job
	waitFor(t, "job "+id, 3*time.Minute, func() bool {
		var err error
		if j, err = svc.Jobs().Get(id); err != nil && !strings.Contains(err.Error(), "not found") {
			t.Fatal(err)
		}
		return j.State.Final()
	})
	return j
}
