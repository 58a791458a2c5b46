package service

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/milvault/milvault/internal/testcert"
)

const goodConfig = `state_dir: /tmp/milvault-state
max_concurrent_jobs: 2
milvus:
  main:
    address: localhost:19530
    token_env: TEST_MILVAULT_TOKEN
repositories:
  primary:
    url: s3://backups/milvault?endpoint=http://127.0.0.1:9000&region=us-east-1
  offsite:
    url: /mnt/offsite
policies:
  nightly:
    repository: primary
    collections: [docs]
    schedule: CRON_TZ=Europe/Berlin 0 2 * * *
    retention: {keep_daily: 7, keep_weekly: 4}
    verify: quick
    copy_to: [offsite]
    rpo: 26h
`

func TestParseConfig(t *testing.T) {
	t.Setenv("TEST_MILVAULT_TOKEN", "root:Milvus")
	cfg, err := ParseConfig("serve.yaml", []byte(goodConfig))
	if err != nil {
		t.Fatal(err)
	}
	p := cfg.Policies["nightly"]
	if cfg.milvusFor(p) != "main" || cfg.Milvus["main"].token != "root:Milvus" || p.RPODuration() != 26*time.Hour || !p.runMissed() {
		t.Fatalf("parsed policy = %+v (milvus %q, token %q)", p, cfg.milvusFor(p), cfg.Milvus["main"].token)
	}
	if cfg.ShutdownGraceDuration() != 5*time.Minute || cfg.lockWait != time.Minute {
		t.Fatalf("defaults: grace %s, lock wait %s", cfg.ShutdownGraceDuration(), cfg.lockWait)
	}
}

// TestConfigErrors: each mistake is reported with the file, the line and
// the key, and what to do.
func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name, old, new string
		want           string
	}{
		{"unknown key", "    verify: quick", "    verfy: quick", "serve.yaml:18: policies.nightly.verfy: unknown key (known here: all_databases, backup"},
		{"unknown top-level key", "max_concurrent_jobs: 2", "max_jobs: 2", "serve.yaml:2: max_jobs: unknown key"},
		{"bad cron", "CRON_TZ=Europe/Berlin 0 2 * * *", "0 25 * * *", "serve.yaml:16: policies.nightly.schedule: schedule \"0 25 * * *\""},
		{"bad time zone", "Europe/Berlin", "Europe/Atlantis", "serve.yaml:16: policies.nightly.schedule:"},
		{"unknown repository", "repository: primary", "repository: primry", `serve.yaml:14: policies.nightly.repository: unknown name "primry" (configured: offsite, primary)`},
		{"unknown copy target", "copy_to: [offsite]", "copy_to: [elsewhere]", `serve.yaml:19: policies.nightly.copy_to: policies.nightly.copy_to[0]: unknown repository "elsewhere"`},
		{"missing secret", "token_env: TEST_MILVAULT_TOKEN", "token_env: TEST_MILVAULT_UNSET", "serve.yaml:6: milvus.main.token_env: environment variable TEST_MILVAULT_UNSET is not set"},
		{"secret in URL", "region=us-east-1", "region=us-east-1&secret_access_key=abc", "serve.yaml:9: repositories.primary.url: the URL holds a credential"},
		{"bad rpo", "rpo: 26h", "rpo: soon", `serve.yaml:20: policies.nightly.rpo: "soon" is not a duration`},
		{"bad verify", "verify: quick", "verify: deep", `serve.yaml:18: policies.nightly.verify: "deep": use checksum, quick or none`},
		{"bad verification mode", "    rpo: 26h", "    rpo: 26h\n    verification: {schedule: \"@weekly\", mode: thorough}", `serve.yaml:21: policies.nightly.verification.mode: "thorough": use checksum, quick or deep`},
		{"bad policy name", "  nightly:", "  night:ly:", `serve.yaml:14: policies.night:ly: policy names use letters`},
		{"bad retention", "keep_daily: 7", "keep_daily: -1", "serve.yaml:17: policies.nightly.retention:"},
		{"TLS CA missing", "token_env: TEST_MILVAULT_TOKEN", "token_env: TEST_MILVAULT_TOKEN\n    tls_ca: /no/such/ca.pem", "milvus.main.tls: --tls-ca: open /no/such/ca.pem"},
		{"bad backup mode", "    rpo: 26h", "    rpo: 26h\n    backup: {mode: physical}", `serve.yaml:21: policies.nightly.backup.mode: "physical": use logical, native or auto`},
		{"native without storage", "    rpo: 26h", "    rpo: 26h\n    backup: {mode: native}", `serve.yaml:21: policies.nightly.backup.mode: mode native needs milvus_storage`},
		{"storage without native", "    rpo: 26h", "    rpo: 26h\n    backup: {milvus_storage: /var/lib/milvus}", `policies.nightly.backup.milvus_storage: milvus_storage applies to native backups only`},
		{"bad gc pause", "    rpo: 26h", "    rpo: 26h\n    backup: {mode: auto, milvus_storage: /x, gc_pause: often}", `policies.nightly.backup.gc_pause: "often" is not a duration`},
		{"bad scan workers", "    rpo: 26h", "    rpo: 26h\n    backup: {scan_workers: -2}", `policies.nightly.backup.scan_workers: -2 scan workers out of range`},
		{"native drill elsewhere without storage", "    rpo: 26h", "    rpo: 26h\n    backup: {mode: native, milvus_storage: /x}\n    drill: {schedule: \"@weekly\", milvus: standby}", `policies.nightly.drill.milvus: native backups are drilled by binlog import through the target's storage: set drill.milvus_storage`},
		{"TLS cert without key", "token_env: TEST_MILVAULT_TOKEN", "token_env: TEST_MILVAULT_TOKEN\n    tls_cert: c.pem", "milvus.main.tls: --tls-cert/--tls-key: give both"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("TEST_MILVAULT_TOKEN", "x")
			if !strings.Contains(goodConfig, tc.old) {
				t.Fatalf("test config lacks %q", tc.old)
			}
			_, err := ParseConfig("serve.yaml", []byte(strings.Replace(goodConfig, tc.old, tc.new, 1)))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v\nwant it to contain %q", err, tc.want)
			}
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("error %T is not a *ConfigError", err)
			}
		})
	}
}

// TestParseConfigBackupOptions: a policy's backup options reach the
// backup parameters and the native options.
func TestParseConfigBackupOptions(t *testing.T) {
	t.Setenv("TEST_MILVAULT_TOKEN", "x")
	extra := "    rpo: 26h\n    backup: {skip_count_check: true, scan_workers: 3, mode: native, milvus_storage: /var/lib/milvus, milvus_metrics: none, gc_pause: 20m}"
	cfg, err := ParseConfig("serve.yaml", []byte(strings.Replace(goodConfig, "    rpo: 26h", extra, 1)))
	if err != nil {
		t.Fatal(err)
	}
	b := cfg.Policies["nightly"].Backup
	p, err := backupParams(cfg.Policies["nightly"])
	if err != nil || !p.SkipCountCheck || p.ScanWorkers != 3 || b.gcPause != 20*time.Minute || b.Mode != "native" || b.MilvusMetrics != "none" {
		t.Fatalf("params %+v, backup %+v, err %v", p, b, err)
	}
}

func TestLoadConfigTokenFile(t *testing.T) {
	dir := t.TempDir()
	tok := filepath.Join(dir, "token")
	os.WriteFile(tok, []byte("root:Milvus\n"), 0o600)
	cfg := strings.Replace(goodConfig, "token_env: TEST_MILVAULT_TOKEN", "token_file: "+tok, 1)
	path := filepath.Join(dir, "serve.yaml")
	os.WriteFile(path, []byte(cfg), 0o600)
	c, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.Milvus["main"].token != "root:Milvus" || c.File != path {
		t.Fatalf("token %q from file, file %q", c.Milvus["main"].token, c.File)
	}
	if _, err := LoadConfig(filepath.Join(dir, "missing.yaml")); err == nil {
		t.Fatal("LoadConfig of a missing file succeeded")
	}
}

// TestExampleConfig: the example in examples/serve.yaml is valid.
func TestExampleConfig(t *testing.T) {
	t.Setenv("MILVUS_TOKEN", "root:Milvus")
	t.Setenv("SLACK_WEBHOOK_URL", "https://hooks.example/x")
	cfg, err := LoadConfig("../examples/serve.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if p := cfg.Policies["nightly"]; p.RPODuration() != 26*time.Hour || p.Webhook.url == "" || cfg.ShutdownGraceDuration() != 10*time.Minute {
		t.Fatalf("example parsed as %+v", p)
	}
}

func TestConfigTLS(t *testing.T) {
	dir := t.TempDir()
	if err := testcert.Write(dir); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TEST_MILVAULT_TOKEN", "x")
	tlsKeys := fmt.Sprintf("token_env: TEST_MILVAULT_TOKEN\n    tls_ca: %s\n    tls_cert: %s\n    tls_key: %s\n    tls_server_name: %s",
		filepath.Join(dir, testcert.CA), filepath.Join(dir, testcert.ClientCert), filepath.Join(dir, testcert.ClientKey), testcert.ServerName)
	c, err := ParseConfig("serve.yaml", []byte(strings.Replace(goodConfig, "token_env: TEST_MILVAULT_TOKEN", tlsKeys, 1)))
	if err != nil {
		t.Fatal(err)
	}
	conf := c.Milvus["main"].tls
	if conf == nil || conf.RootCAs == nil || len(conf.Certificates) != 1 || conf.ServerName != testcert.ServerName {
		t.Errorf("TLS configuration of the Milvus connection = %+v, want the CA, the client certificate and the server name", conf)
	}
}
