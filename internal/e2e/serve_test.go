package e2e

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	crand "crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/milvault/milvault/internal/fixture"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/local"
)

// TestServe runs the `milvault serve` process against the first server of
// MILVAULT_TEST_TARGETS: kill -9 during a backup and restart, SIGHUP
// reload, SIGTERM stop, --check-config and the listen refusal.
func TestServe(t *testing.T) {
	tg := targets(t)[0]
	e := newEnv(t, tg.addr)
	bin := binary(t, e.root)
	name := uniqueName("serve")
	e.createFixture(t, fixture.Options{Name: name, Rows: 20000, Seed: 7})
	dir := t.TempDir()
	repoDir := filepath.Join(dir, "repo")
	st, err := local.New(repoDir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := repo.OpenOrInit(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "serve.yaml")
	writeServeConfig(t, cfgPath, tg.addr, repoDir, name, filepath.Join(dir, "state"), false)
	t.Setenv("MILVAULT_ADMIN_TOKEN", "e2e-admin")

	t.Run("check_config", func(t *testing.T) { testCheckConfig(t, bin, dir, cfgPath) })
	t.Run("kill_restart", func(t *testing.T) { testServeKill(t, bin, cfgPath, repoDir) })
	t.Run("tls", func(t *testing.T) { testServeTLS(t, bin, cfgPath, dir) })
	t.Run("restore_cancel", func(t *testing.T) { testServeRestore(t, e, bin, cfgPath, name) })
	t.Run("sighup_sigterm", func(t *testing.T) {
		testServeSignals(t, bin, cfgPath, func() {
			writeServeConfig(t, cfgPath, tg.addr, repoDir, name, filepath.Join(dir, "state"), true)
		})
	})
}

func writeServeConfig(t *testing.T, path, addr, repoDir, coll, state string, extra bool) {
	t.Helper()
	cfg := fmt.Sprintf(`state_dir: %s
milvus:
  main: {address: %q}
repositories:
  local: {url: %q}
policies:
  slow:
    repository: local
    collections: [%s]
    schedule: "@every 1h"
    run_missed: false
    backup: {chunk_size: 64KiB}
    rpo: 2h
`, state, addr, repoDir, coll)
	if extra {
		cfg += fmt.Sprintf("  added:\n    repository: local\n    collections: [%s]\n    schedule: \"@daily\"\n", coll)
	}
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
}

func testCheckConfig(t *testing.T, bin, dir, good string) {
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("repositories:\n  r: {url: /tmp/x}\npolicies:\n  p:\n    repository: r\n    schedule: \"@every soon\"\n    colections: [a]\n"), 0o600)
	out, err := exec.Command(bin, "serve", "--config", bad, "--check-config").CombinedOutput()
	code := exitCode(err)
	for _, want := range []string{"bad.yaml:6: policies.p.schedule:", "bad.yaml:7: policies.p.colections: unknown key"} {
		if code != 2 || !strings.Contains(string(out), want) {
			t.Errorf("check-config of a bad file: exit %d, output %s; want exit 2 and %q", code, out, want)
		}
	}
	cmd := exec.Command(bin, "serve", "--config", good, "--listen", "0.0.0.0:0")
	cmd.Env = append(os.Environ(), "MILVAULT_ADMIN_TOKEN=")
	out, err = cmd.CombinedOutput()
	if exitCode(err) != 2 || !strings.Contains(string(out), "--insecure-no-auth") {
		t.Errorf("listen beyond loopback without a token: exit %d, %s; want a refusal", exitCode(err), out)
	}
}

func exitCode(err error) int {
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// serveProc is a running `milvault serve`.
type serveProc struct {
	cmd  *exec.Cmd
	base string
	logs *strings.Builder
	done chan error
}

func startServe(t *testing.T, bin, cfg string, extra ...string) *serveProc {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve", "--config", cfg, "--listen", "127.0.0.1:0"}, extra...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &serveProc{cmd: cmd, logs: &strings.Builder{}, done: make(chan error, 1)}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			p.logs.WriteString(line + "\n")
			var rec struct{ Msg, Listen string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "milvault serve started" {
				addr <- rec.Listen
			}
		}
		p.done <- cmd.Wait()
	}()
	t.Cleanup(func() { cmd.Process.Kill() })
	select {
	case a := <-addr:
		p.base = "http://" + a
	case <-time.After(30 * time.Second):
		t.Fatalf("milvault serve did not start: %s", p.logs)
	}
	return p
}

func (p *serveProc) call(t *testing.T, method, path string, into any) int {
	t.Helper()
	return p.send(t, method, path, "", into)
}

func (p *serveProc) send(t *testing.T, method, path, body string, into any) int {
	t.Helper()
	req, _ := http.NewRequest(method, p.base+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer e2e-admin")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if into != nil {
		if err := json.Unmarshal(data, into); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, data)
		}
	}
	return resp.StatusCode
}

type jobView struct {
	ID, State, Error string
	Result           json.RawMessage
}

func (p *serveProc) waitJob(t *testing.T, id string) jobView {
	t.Helper()
	var j jobView
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		p.call(t, "GET", "/api/v1/jobs/"+id, &j)
		if j.State != "queued" && j.State != "running" {
			return j
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("job %s did not finish", id)
	return j
}

// testServeKill kills the service with SIGKILL while a backup writes, and
// restarts it: the job shows interrupted, no half backup is listed, the
// next run succeeds, and after another restart the last-success metric is
// right before any run.
func testServeKill(t *testing.T, bin, cfg, repoDir string) {
	p := startServe(t, bin, cfg)
	var j jobView
	if code := p.call(t, "POST", "/api/v1/policies/slow/run", &j); code != 202 {
		t.Fatalf("run = %d", code)
	}
	waitForDataFile(t, repoDir, 2*time.Minute)
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done

	p = startServe(t, bin, cfg)
	var got jobView
	p.call(t, "GET", "/api/v1/jobs/"+j.ID, &got)
	if got.State != "interrupted" {
		t.Fatalf("job after kill -9 and restart = %+v, want interrupted", got)
	}
	var backups []struct{ ID string }
	p.call(t, "GET", "/api/v1/repositories/local/backups", &backups)
	if len(backups) != 0 {
		t.Fatalf("backups listed after the kill: %v, want none", backups)
	}
	p.call(t, "POST", "/api/v1/policies/slow/run", &j)
	if done := p.waitJob(t, j.ID); done.State != "succeeded" {
		t.Fatalf("run after restart = %+v", done)
	}
	p.call(t, "GET", "/api/v1/repositories/local/backups", &backups)
	if len(backups) != 1 {
		t.Fatalf("backups after the next run: %v, want one", backups)
	}
	if got := listDir(t, filepath.Join(repoDir, "data")); len(got) != 1 || got[0] != backups[0].ID {
		t.Errorf("data/ holds %v after the next run, want only [%s] (leftovers of the killed run removed)", got, backups[0].ID)
	}
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done

	var m struct {
		CreatedAt time.Time `json:"created_at"`
	}
	p = startServe(t, bin, cfg)
	p.call(t, "GET", "/api/v1/repositories/local/backups/"+backups[0].ID, &m)
	metrics := p.metrics(t)
	want := fmt.Sprintf(`,policy="slow"} %v`, float64(m.CreatedAt.UnixNano())/1e9)
	if !strings.Contains(metrics, want) || !strings.Contains(metrics, "milvault_backup_last_success_timestamp_seconds{") {
		t.Fatalf("after restart the last success is not the backup's time (want %q):\n%s", want, metrics)
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	<-p.done
}

func (p *serveProc) metrics(t *testing.T) string {
	t.Helper()
	req, _ := http.NewRequest("GET", p.base+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer e2e-admin")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return string(data)
}

// testServeSignals: SIGHUP reloads the configuration (a new policy shows)
// while a run goes on; SIGTERM lets the running job finish and exits 0.
func testServeSignals(t *testing.T, bin, cfg string, rewrite func()) {
	p := startServe(t, bin, cfg)
	var j jobView
	if code := p.call(t, "POST", "/api/v1/policies/slow/run", &j); code != 202 {
		t.Fatalf("run = %d", code)
	}
	rewrite()
	p.cmd.Process.Signal(syscall.SIGHUP)
	var names []string
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) && len(names) != 2 {
		var ps []struct{ Name string }
		p.call(t, "GET", "/api/v1/policies", &ps)
		names = names[:0]
		for _, x := range ps {
			names = append(names, x.Name)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(names) != 2 {
		t.Fatalf("policies after SIGHUP = %v, want added and slow", names)
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("serve after SIGTERM: %v\n%s", err, p.logs)
		}
	case <-time.After(3 * time.Minute):
		t.Fatal("serve did not stop within 3 minutes of SIGTERM")
	}
	if !strings.Contains(p.logs.String(), `"state":"succeeded"`) {
		t.Fatalf("the running job did not finish before the stop:\n%s", p.logs)
	}
}

// testServeRestore restores a backup with a job over the API, then
// cancels a second restore while it runs: it ends cancelled and leaves no
// collection behind.
func testServeRestore(t *testing.T, e *env, bin, cfg, coll string) {
	p := startServe(t, bin, cfg)
	defer func() { p.cmd.Process.Signal(syscall.SIGTERM); <-p.done }()
	var backups []struct{ ID string }
	p.call(t, "GET", "/api/v1/repositories/local/backups", &backups)
	if len(backups) == 0 {
		t.Fatal("no backup to restore (kill_restart makes one)")
	}
	restored, cancelled := coll+"_r1", coll+"_r2"
	e.dropLater(t, restored)
	e.dropLater(t, cancelled)
	var j jobView
	body := fmt.Sprintf(`{"kind":"restore","repository":"local","backup":%q,"target":%q}`, backups[0].ID, restored)
	if code := p.send(t, "POST", "/api/v1/jobs", body, &j); code != 202 {
		t.Fatalf("start restore = %d %+v", code, j)
	}
	if done := p.waitJob(t, j.ID); done.State != "succeeded" {
		t.Fatalf("restore job = %+v", done)
	}
	ctx := testContext(t)
	if ok, err := e.client.HasCollection(ctx, "default", restored); !ok || err != nil {
		t.Fatalf("restored collection %s missing: %v", restored, err)
	}

	body = fmt.Sprintf(`{"kind":"restore","repository":"local","backup":%q,"target":%q}`, backups[0].ID, cancelled)
	p.send(t, "POST", "/api/v1/jobs", body, &j)
	for j.State != "running" {
		p.call(t, "GET", "/api/v1/jobs/"+j.ID, &j)
		if j.State != "queued" && j.State != "running" {
			t.Fatalf("restore ended before it could be cancelled: %+v", j)
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // let it create the collection
	if code := p.call(t, "POST", "/api/v1/jobs/"+j.ID+"/cancel", nil); code != 202 {
		t.Fatalf("cancel = %d", code)
	}
	done := p.waitJob(t, j.ID)
	if done.State != "cancelled" {
		t.Fatalf("cancelled restore = %+v, want cancelled", done)
	}
	if ok, err := e.client.HasCollection(ctx, "default", cancelled); ok || err != nil {
		t.Fatalf("the cancelled restore left collection %s (err %v)", cancelled, err)
	}
	t.Logf("cancelled restore: %s", done.Error)
}

// testServeTLS serves HTTPS with --tls-cert/--tls-key: a client trusting
// the certificate gets /healthz, and the API still wants its token.
func testServeTLS(t *testing.T, bin, cfg, dir string) {
	certFile, keyFile, pool := selfSigned(t, dir)
	p := startServe(t, bin, cfg, "--tls-cert", certFile, "--tls-key", keyFile)
	defer func() { p.cmd.Process.Signal(syscall.SIGTERM); <-p.done }()
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	base := strings.Replace(p.base, "http://", "https://", 1)
	for path, want := range map[string]int{"/healthz": 200, "/api/v1/jobs": 401} {
		resp, err := client.Get(base + path)
		if err != nil {
			t.Fatalf("GET %s over TLS: %v", path, err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s over TLS = %d, want %d", path, resp.StatusCode, want)
		}
	}
}

// selfSigned writes a certificate for 127.0.0.1 and its key, and returns
// a pool that trusts it.
func selfSigned(t *testing.T, dir string) (string, string, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), crand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "milvault-e2e"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(crand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}
