package service_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/milvault/milvault/internal/testenv"
	"github.com/milvault/milvault/jobs"
	"github.com/milvault/milvault/milvus"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/blob"
	"github.com/milvault/milvault/service"
	"github.com/milvault/milvault/service/api"
)

// s3Repo creates an empty repository under a fresh prefix of bucket on the
// test S3 server and returns its URL; the prefix is removed at the end.
func s3Repo(t *testing.T, bucket string) string {
	t.Helper()
	endpoint := os.Getenv("MILVAULT_TEST_S3_ENDPOINT")
	b := make([]byte, 6)
	rand.Read(b)
	q := url.Values{"endpoint": {endpoint}, "region": {"us-east-1"}, "use_path_style": {"true"}}
	u := "s3://" + bucket + "/serve-" + hex.EncodeToString(b) + "?" + q.Encode()
	ctx := context.Background()
	bs, err := blob.Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bs.DeleteAll(context.Background(), ""); bs.Close() })
	if _, err := repo.OpenOrInit(ctx, bs); err != nil {
		t.Fatal(err)
	}
	return u
}

func needS3(t *testing.T) {
	t.Helper()
	if os.Getenv("MILVAULT_TEST_S3_ENDPOINT") == "" {
		t.Skip("MILVAULT_TEST_S3_ENDPOINT is not set: the service test needs a real S3-compatible server (scripts/minio.sh start, then source .milvus-test/minio.env)")
	}
	t.Setenv("AWS_ACCESS_KEY_ID", os.Getenv("MILVAULT_TEST_S3_ACCESS_KEY"))
	t.Setenv("AWS_SECRET_ACCESS_KEY", os.Getenv("MILVAULT_TEST_S3_SECRET_KEY"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

// proxy forwards TCP connections to a Milvus; Stop makes that Milvus
// unreachable for the service (refused connections, broken streams)
// without stopping the server other tests share, Start brings it back on
// the same address.
type proxy struct {
	t      *testing.T
	addr   string
	target string
	mu     sync.Mutex
	ln     net.Listener
	conns  []net.Conn
}

func newProxy(t *testing.T, target string) *proxy {
	p := &proxy{t: t, target: target}
	p.Start()
	t.Cleanup(p.Stop)
	return p
}

func (p *proxy) Start() {
	addr := p.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		p.t.Fatal(err)
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	go p.accept(ln)
}

func (p *proxy) accept(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, up)
		p.mu.Unlock()
		go func() { io.Copy(up, c); up.Close() }()
		go func() { io.Copy(c, up); c.Close() }()
	}
}

func (p *proxy) Stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ln.Close()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// metric returns the value of the sample of name whose labels include
// labels, summed over matching samples.
func metric(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) (float64, bool) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	found := false
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			got := map[string]string{}
			for _, lp := range m.GetLabel() {
				got[lp.GetName()] = lp.GetValue()
			}
			for k, v := range labels {
				if got[k] != v {
					continue next
				}
			}
			found = true
			switch {
			case m.Gauge != nil:
				sum += m.GetGauge().GetValue()
			case m.Counter != nil:
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum, found
}

func waitFor(t *testing.T, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", limit, what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestServiceAgainstMilvusAndS3 runs `milvault serve`'s service with a
// policy every 3 s backing up a collection of the real Milvus 2.3.5 to an
// S3 repository (MinIO), verifying, pruning to the newest 2 and copying
// each backup to a second bucket. Then Milvus becomes unreachable: runs
// fail and milvault_job_runs_total{result="failed"} grows; it comes back
// and runs succeed again. A restarted service reports the last success
// from the repository before any run.
func TestServiceAgainstMilvusAndS3(t *testing.T) {
	needS3(t)
	tg := testenv.Targets(t)[0]
	var hookMu sync.Mutex
	var hooks []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var n service.Notification
		json.NewDecoder(r.Body).Decode(&n)
		hookMu.Lock()
		hooks = append(hooks, n.Policy+":"+n.Status)
		hookMu.Unlock()
	}))
	defer hook.Close()
	t.Setenv("TEST_SERVE_HOOK", hook.URL)
	ctx := context.Background()
	c, err := milvus.Connect(ctx, milvus.Config{Address: tg.Address})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	coll := testenv.Collection(t, c, "serve", 500, 8)
	px := newProxy(t, tg.Address)
	primary, offsite := s3Repo(t, os.Getenv("MILVAULT_TEST_S3_BUCKET")), s3Repo(t, os.Getenv("MILVAULT_TEST_S3_BUCKET2"))
	state := t.TempDir()
	cfgText := fmt.Sprintf(`state_dir: %s
max_concurrent_jobs: 2
milvus:
  main: {address: %q}
repositories:
  primary: {url: %q}
  offsite: {url: %q}
policies:
  often:
    repository: primary
    collections: [%s]
    schedule: "@every 3s"
    retention: {keep_last: 2, min_keep: 1}
    verify: checksum
    copy_to: [offsite]
    rpo: 1m
    webhook: {url_env: TEST_SERVE_HOOK}
  manual:
    repository: primary
    collections: [%s]
    schedule: "@every 1h"
    run_missed: false
    verify: quick
    retention: {keep_last: 2, min_keep: 1}
    drill: {schedule: "@every 1h", max_rto: 10m}
    verification: {schedule: "@every 1h", mode: deep}
`, state, px.addr, primary, offsite, coll, coll)
	cfg, err := service.ParseConfig("serve.yaml", []byte(cfgText))
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	svc, err := service.New(cfg, service.Options{Registry: reg, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	var once sync.Once
	shutdown := func() (err error) { once.Do(func() { stop(); err = svc.Shutdown() }); return err }
	t.Cleanup(func() { shutdown() })
	go svc.Run(runCtx)
	start := time.Now()
	often := map[string]string{"kind": "backup", "policy": "often"}
	ok := func() float64 {
		v, _ := metric(t, reg, "milvault_job_runs_total", with(often, "result", "succeeded"))
		return v
	}
	failed := func() float64 {
		v, _ := metric(t, reg, "milvault_job_runs_total", with(often, "result", "failed"))
		return v
	}
	waitFor(t, "3 successful policy runs", 90*time.Second, func() bool { return ok() >= 3 })
	if f := failed(); f != 0 {
		t.Fatalf("%v runs failed while Milvus was up: %s", f, jobErrors(t, svc))
	}

	labels := map[string]string{"policy": "often", "database": "default", "collection": coll}
	last, found := metric(t, reg, "milvault_backup_last_success_timestamp_seconds", labels)
	if !found || last < float64(start.Unix())-1 {
		t.Fatalf("last success = %v (found %v), want after %d", last, found, start.Unix())
	}
	if v, _ := metric(t, reg, "milvault_backup_last_verified_timestamp_seconds", labels); v < last {
		t.Fatalf("last verified %v is before the last success %v", v, last)
	}
	if rows, _ := metric(t, reg, "milvault_backup_rows", map[string]string{"policy": "often"}); rows != 500 {
		t.Fatalf("backup rows = %v, want 500", rows)
	}
	if rpo, _ := metric(t, reg, "milvault_policy_rpo_seconds", map[string]string{"policy": "often"}); rpo != 60 {
		t.Fatalf("rpo metric = %v, want 60", rpo)
	}
	if next, _ := metric(t, reg, "milvault_policy_next_run_timestamp_seconds", map[string]string{"policy": "often"}); next < float64(time.Now().Unix())-5 {
		t.Fatalf("next run %v is in the past", next)
	}
	checkRepositories(t, svc)

	// The API: start a backup of the manual policy, follow it to success.
	srv := httptest.NewServer(api.Handler(svc, api.Options{Gatherer: reg, Tokens: api.Tokens{Admin: []string{"adm"}, Read: []string{"ro"}}}))
	defer srv.Close()
	httpBackup(t, srv)
	if resp, err := http.Get(srv.URL + "/readyz"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("/readyz with Milvus and both buckets up = %v, %v", resp, err)
	}
	httpJob(t, srv, `{"kind":"drill","policy":"manual"}`)
	if v, _ := metric(t, reg, "milvault_drill_ok", map[string]string{"policy": "manual"}); v != 1 {
		t.Fatalf("milvault_drill_ok = %v after a drill, want 1", v)
	}
	if v, _ := metric(t, reg, "milvault_drill_rto_seconds", map[string]string{"policy": "manual"}); v <= 0 || v > 600 {
		t.Fatalf("milvault_drill_rto_seconds = %v, want a measured RTO", v)
	}
	vj := httpJob(t, srv, `{"kind":"verify","policy":"manual"}`)
	var vr service.VerifyResult
	if err := json.Unmarshal(vj.Result, &vr); err != nil || vr.Mode != "deep" || !vr.OK || vr.Rows != 500 {
		t.Fatalf("deep verification job result %s", vj.Result)
	}
	// The manual backup and the scheduled ones are one selection: a prune
	// job keeps the newest 2 of them (3 if a run committed meanwhile).
	pj := httpJob(t, srv, `{"kind":"prune","policy":"manual"}`)
	var pr service.PruneResult
	if err := json.Unmarshal(pj.Result, &pr); err != nil {
		t.Fatal(err)
	}
	if bs, _ := svc.ListBackups(ctx, "primary"); len(bs) > 3 {
		t.Fatalf("after the prune job (deleted %v) the primary holds %d backups", pr.Deleted, len(bs))
	}

	// Milvus goes away: runs fail, the failure counter grows.
	px.Stop()
	before := failed()
	waitFor(t, "2 failed runs with Milvus unreachable", 60*time.Second, func() bool { return failed() >= before+2 })
	if v, _ := metric(t, reg, "milvault_policy_consecutive_failures", map[string]string{"policy": "often"}); v < 2 {
		t.Fatalf("consecutive failures = %v, want >= 2", v)
	}
	// It comes back: runs succeed again.
	px.Start()
	okBefore := ok()
	waitFor(t, "a successful run after Milvus came back", 60*time.Second, func() bool { return ok() > okBefore })
	if v, _ := metric(t, reg, "milvault_policy_consecutive_failures", map[string]string{"policy": "often"}); v != 0 {
		t.Fatalf("consecutive failures after recovery = %v, want 0", v)
	}
	waitFor(t, "the recovery webhook", 10*time.Second, func() bool {
		hookMu.Lock()
		defer hookMu.Unlock()
		if len(hooks) > 2 {
			t.Fatalf("webhooks = %v, want [often:failing often:recovered]; failed jobs: %v", hooks, failedJobs(svc))
		}
		return len(hooks) == 2
	})
	if hooks[0] != "often:failing" || hooks[1] != "often:recovered" {
		t.Fatalf("webhooks = %v, want [often:failing often:recovered]", hooks)
	}

	if err := shutdown(); err != nil {
		t.Fatal(err)
	}
	lastBefore, _ := metric(t, reg, "milvault_backup_last_success_timestamp_seconds", labels)

	// A restart reports the last success from the repository at once.
	reg2 := prometheus.NewRegistry()
	svc2, err := service.New(cfg, service.Options{Registry: reg2, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	defer svc2.Shutdown()
	svc2.RestoreMetrics(ctx)
	got, found := metric(t, reg2, "milvault_backup_last_success_timestamp_seconds", labels)
	if !found || got < lastBefore-1 || got > lastBefore+1 {
		t.Fatalf("after restart last success = %v (found %v), want %v", got, found, lastBefore)
	}
	if v, found := metric(t, reg2, "milvault_backup_last_verified_timestamp_seconds", labels); !found || v < got {
		t.Fatalf("after restart last verified = %v (found %v), want >= %v", v, found, got)
	}
}

func with(m map[string]string, k, v string) map[string]string {
	out := map[string]string{k: v}
	for a, b := range m {
		out[a] = b
	}
	return out
}

func jobErrors(t *testing.T, svc *service.Service) string {
	js, _ := svc.Jobs().List(func(j jobs.Job) bool { return j.State == jobs.StateFailed })
	var out []string
	for _, j := range js {
		out = append(out, j.Error)
	}
	return strings.Join(out, "; ")
}

// checkRepositories: the primary keeps the newest 2 backups of the policy
// (plus any of the manual policy), each copied to the offsite repository.
func checkRepositories(t *testing.T, svc *service.Service) {
	t.Helper()
	ctx := context.Background()
	// Wait for a quiet moment: no run of the policy in flight.
	waitFor(t, "the policy between runs", 30*time.Second, func() bool { _, busy := svc.Jobs().Running("often"); return !busy })
	prim, err := svc.ListBackups(ctx, "primary")
	if err != nil {
		t.Fatal(err)
	}
	off, err := svc.ListBackups(ctx, "offsite")
	if err != nil {
		t.Fatal(err)
	}
	if len(prim) > 3 || len(prim) < 2 { // 2 kept, a third may have been committed since
		t.Fatalf("primary holds %d backups, want the newest 2 (keep_last 2)", len(prim))
	}
	copied := map[string]bool{}
	for _, b := range off {
		copied[b.ID] = true
	}
	if len(off) < 3 {
		t.Fatalf("offsite holds %d backups, want every one of the >= 3 runs", len(off))
	}
	js, _ := svc.Jobs().List(func(j jobs.Job) bool { return j.Policy == "often" && j.State == jobs.StateSucceeded })
	for _, j := range js {
		var res service.PolicyResult
		if err := json.Unmarshal(j.Result, &res); err != nil || !copied[res.BackupID] || res.Verification == nil || !res.Verification.OK {
			t.Fatalf("job %s result %s: backup not copied or not verified", j.ID, j.Result)
		}
	}
}

// httpBackup starts a backup job over the API with an admin token (a
// read-only one is refused), and follows it to success.
func httpBackup(t *testing.T, srv *httptest.Server) {
	t.Helper()
	post := func(token string) (*http.Response, jobs.Job) {
		req, _ := http.NewRequest("POST", srv.URL+"/api/v1/jobs", strings.NewReader(`{"kind":"backup","policy":"manual"}`))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var j jobs.Job
		json.NewDecoder(resp.Body).Decode(&j)
		return resp, j
	}
	if resp, _ := post(""); resp.StatusCode != 401 {
		t.Fatalf("start without a token = %d, want 401", resp.StatusCode)
	}
	if resp, _ := post("ro"); resp.StatusCode != 403 {
		t.Fatalf("start with a read-only token = %d, want 403", resp.StatusCode)
	}
	j := httpJob(t, srv, `{"kind":"backup","policy":"manual"}`)
	var res service.PolicyResult
	if json.Unmarshal(j.Result, &res) != nil || res.Rows != 500 || res.Verification.Mode != "quick" {
		t.Fatalf("API job = %+v", j)
	}
	req, _ := http.NewRequest("GET", srv.URL+"/api/v1/repositories/primary/backups/"+res.BackupID, nil)
	req.Header.Set("Authorization", "Bearer ro")
	r2, err := http.DefaultClient.Do(req)
	if err != nil || r2.StatusCode != 200 {
		t.Fatalf("get backup %s = %v %v", res.BackupID, r2.StatusCode, err)
	}
	r2.Body.Close()
}

// httpJob starts a job over the API with the admin token and follows it to
// success.
func httpJob(t *testing.T, srv *httptest.Server, body string) jobs.Job {
	t.Helper()
	req, _ := http.NewRequest("POST", srv.URL+"/api/v1/jobs", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer adm")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var j jobs.Job
	json.NewDecoder(resp.Body).Decode(&j)
	resp.Body.Close()
	if resp.StatusCode != 202 || j.ID == "" {
		t.Fatalf("start %s = %d %+v", body, resp.StatusCode, j)
	}
	waitFor(t, "the API job "+body, 120*time.Second, func() bool {
		req, _ := http.NewRequest("GET", srv.URL+"/api/v1/jobs/"+j.ID, nil)
		req.Header.Set("Authorization", "Bearer ro")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		json.NewDecoder(resp.Body).Decode(&j)
		return j.State.Final()
	})
	if j.State != jobs.StateSucceeded {
		t.Fatalf("job %s = %+v", body, j)
	}
	return j
}

// failedJobs lists the failed jobs with their errors, for failure messages.
func failedJobs(svc *service.Service) []string {
	js, err := svc.Jobs().List(func(j jobs.Job) bool { return j.State == jobs.StateFailed })
	if err != nil {
		return []string{err.Error()}
	}
	var out []string
	for _, j := range js {
		out = append(out, j.Policy+" "+string(j.Kind)+": "+j.Error)
	}
	return out
}
