package service_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/milvault/milvault/internal/testenv"
	"github.com/milvault/milvault/milvus"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/local"
	"github.com/milvault/milvault/service"
	"github.com/milvault/milvault/service/api"
)

// TestPrometheusAlerts runs a real Prometheus (Debian package prometheus)
// scraping the service with the alert rules of deploy/prometheus: after a
// good backup Milvus becomes unreachable, and the stale-backup alert goes
// pending (its `for` is 5 minutes) while the failing-policy alert fires.
func TestPrometheusAlerts(t *testing.T) {
	promBin, err := exec.LookPath("prometheus")
	if err != nil {
		t.Skip("prometheus is not installed (apt-get install prometheus): the alert rules are not tried against a live service")
	}
	tg := testenv.Targets(t)[0]
	ctx := context.Background()
	c, err := milvus.Connect(ctx, milvus.Config{Address: tg.Address})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	coll := testenv.Collection(t, c, "prom", 200, 8)
	px := newProxy(t, tg.Address)
	dir := t.TempDir()
	st, err := local.New(filepath.Join(dir, "repo"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := repo.OpenOrInit(ctx, st); err != nil {
		t.Fatal(err)
	}
	cfg, err := service.ParseConfig("serve.yaml", []byte(fmt.Sprintf(`state_dir: %s
milvus:
  main: {address: %q}
repositories:
  local: {url: %q}
policies:
  fast:
    repository: local
    collections: [%s]
    schedule: "@every 2s"
    rpo: 4s
`, filepath.Join(dir, "state"), px.addr, filepath.Join(dir, "repo"), coll)))
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	svc, err := service.New(cfg, service.Options{Registry: reg, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	defer func() { stop(); svc.Shutdown() }()
	go svc.Run(runCtx)
	srv := httptest.NewServer(api.Handler(svc, api.Options{Gatherer: reg, Tokens: api.Tokens{Admin: []string{"adm"}, Read: []string{"scraper"}}}))
	defer srv.Close()
	promURL := startPrometheus(t, promBin, dir, strings.TrimPrefix(srv.URL, "http://"))

	waitFor(t, "a successful run", 60*time.Second, func() bool {
		v, _ := metric(t, reg, "milvault_job_runs_total", map[string]string{"policy": "fast", "result": "succeeded"})
		return v >= 1
	})
	if got := alertStates(t, promURL); got["MilvaultBackupStale"] != "" {
		t.Fatalf("alerts with fresh backups: %v", got)
	}
	px.Stop()
	waitFor(t, "MilvaultBackupStale pending and MilvaultPolicyFailing firing in Prometheus", 90*time.Second, func() bool {
		got := alertStates(t, promURL)
		return (got["MilvaultBackupStale"] == "pending" || got["MilvaultBackupStale"] == "firing") && got["MilvaultPolicyFailing"] == "firing"
	})
}

// startPrometheus runs Prometheus scraping target every second with the
// project's rules, and returns its URL.
func startPrometheus(t *testing.T, bin, dir, target string) string {
	t.Helper()
	rules, err := filepath.Abs("../deploy/prometheus/milvault-rules.yaml")
	if err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "prometheus.yml")
	os.WriteFile(conf, []byte(fmt.Sprintf(`global: {scrape_interval: 1s, evaluation_interval: 1s}
rule_files: [%q]
scrape_configs:
  - job_name: milvault
    authorization: {credentials: scraper}
    static_configs: [{targets: [%q]}]
`, rules, target)), 0o600)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, "--config.file="+conf, "--storage.tsdb.path="+filepath.Join(dir, "tsdb"), "--web.listen-address="+addr)
	logs, _ := os.Create(filepath.Join(dir, "prometheus.log"))
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	url := "http://" + addr
	waitFor(t, "Prometheus ready", 60*time.Second, func() bool {
		resp, err := http.Get(url + "/-/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	return url
}

// alertStates returns the state of each active alert by name.
func alertStates(t *testing.T, promURL string) map[string]string {
	t.Helper()
	resp, err := http.Get(promURL + "/api/v1/alerts")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Data struct {
			Alerts []struct {
				Labels map[string]string
				State  string
			}
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, a := range body.Data.Alerts {
		out[a.Labels["alertname"]] = a.State
	}
	return out
}
