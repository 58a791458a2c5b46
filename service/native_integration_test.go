package service_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/milvault/milvault/drill"
	"github.com/milvault/milvault/internal/testenv"
	"github.com/milvault/milvault/jobs"
	"github.com/milvault/milvault/service"
)

// TestNativePolicy: a policy with backup mode native on the real Milvus
// 2.3.5 (storage on MinIO) takes native backups; its drill restores the
// newest by binlog import and passes with a measured RTO, and its deep
// verification compares every row.
func TestNativePolicy(t *testing.T) {
	c, loc := testenv.NativeTarget(t)
	const rows = 5000
	coll := testenv.Collection(t, c, "nserve", rows, 16)
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
`, t.TempDir(), c.Address(), localRepo(t), coll, loc)
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
	t.Logf("native policy backup %s: %d files; drill RTO %.1fs", res.BackupID, res.Native.Files, rep.RTOSeconds)
}
