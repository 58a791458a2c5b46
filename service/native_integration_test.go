package service_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/milvault/milvault/backup"
	"github.com/milvault/milvault/drill"
	"github.com/milvault/milvault/internal/testenv"
	"github.com/milvault/milvault/jobs"
	"github.com/milvault/milvault/milvus"
	"github.com/milvault/milvault/native"
	"github.com/milvault/milvault/progress"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/local"
	"github.com/milvault/milvault/service"
)

// TestNativePolicy: a policy with backup mode native on the real Milvus
// 2.3.5 (storage on MinIO) takes native backups, resuming a native backup
// of the same repository that was cancelled after it stored a file (its
// result says so); its drill restores the newest by binlog import and
// passes with a measured RTO, and its deep verification compares every
// row.
func TestNativePolicy(t *testing.T) {
	c, loc := testenv.NativeTarget(t)
	const rows = 5000
	coll := testenv.Collection(t, c, "nserve", rows, 16)
	repoDir := localRepo(t)
	interruptNative(t, c, repoDir, loc, coll)
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
    backup: {mode: native, milvus_storage: %q, milvus_metrics: none}
    verify: checksum
    drill: {schedule: "@every 1h", max_rto: 10m}
    verification: {schedule: "@every 1h", mode: deep}
`, t.TempDir(), c.Address(), repoDir, coll, loc)
	cfg, err := service.ParseConfig("serve.yaml", []byte(cfgText))
	if err != nil {
		t.Fatal(err)
	}
	svc, err := service.New(cfg, service.Options{Registry: prometheus.NewRegistry(), Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Shutdown() })
	b := finished(t, svc, startPolicy(t, svc).ID)
	var res service.PolicyResult
	if err := json.Unmarshal(b.Result, &res); err != nil || b.State != jobs.StateSucceeded || res.Mode != "native" || res.Native == nil || res.Native.Files == 0 || res.Rows != rows {
		t.Fatalf("native policy run: %s %s %s", b.State, b.Error, b.Result)
	}
	var n int
	if _, err := fmt.Sscanf(res.Resumed, "resumed an interrupted native backup, reused %d segment files", &n); err != nil || n == 0 || int64(n) > res.Native.Reused {
		t.Fatalf("native policy run after a cancelled one: result %s does not say it resumed", b.Result)
	}
	dj, err := svc.RunDrill("p")
	if err != nil {
		t.Fatal(err)
	}
	d := finished(t, svc, dj.ID)
	var rep drill.Report
	if err := json.Unmarshal(d.Result, &rep); err != nil || d.State != jobs.StateSucceeded || !rep.OK || rep.Method != "binlog-import" || rep.RTOSeconds <= 0 || rep.BackupID != res.BackupID {
		t.Fatalf("drill of the native backup: %s %s %s", d.State, d.Error, d.Result)
	}
	vj, err := svc.RunVerification("p")
	if err != nil {
		t.Fatal(err)
	}
	v := finished(t, svc, vj.ID)
	var vr service.VerifyResult
	if err := json.Unmarshal(v.Result, &vr); err != nil || v.State != jobs.StateSucceeded || !vr.OK || vr.Mode != "deep" || vr.Rows != rows {
		t.Fatalf("deep verification of the native backup: %s %s %s", v.State, v.Error, v.Result)
	}
	t.Logf("native policy backup %s: %d files, %d of them stored by the cancelled run; drill RTO %.1fs", res.BackupID, res.Native.Files, n, rep.RTOSeconds)
}

// interruptNative starts a native backup of coll into the repository in
// dir and cancels it once it stored its first segment file.
func interruptNative(t *testing.T, c *milvus.Client, dir, loc, coll string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := native.OpenStorage(ctx, loc)
	if err != nil {
		t.Fatal(err)
	}
	s, err := local.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	r, err := repo.Open(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	_, err = native.Backup(ctx, native.Deps{Milvus: c, Repo: r, Storage: st, Progress: cancelOnBytes{progress.Nop, cancel}},
		backup.Params{Collections: []string{coll}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("native backup cancelled after its first file: %v", err)
	}
}

// cancelOnBytes cancels when the first stored bytes are reported.
type cancelOnBytes struct {
	progress.Progress
	cancel func()
}

func (p cancelOnBytes) Bytes(int64) { p.cancel() }
