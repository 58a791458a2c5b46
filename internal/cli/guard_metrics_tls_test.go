package cli

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/milvault/milvault/errkind"
	"github.com/milvault/milvault/internal/testcert"
	"github.com/milvault/milvault/internal/testenv"
)

// TestGuardMetricsTLS runs milvault guard with --metrics-tls-cert and
// --metrics-tls-key (a generated certificate): /metrics answers over
// HTTPS to a client that trusts the CA, and a plain HTTP client gets no
// metrics. Milvus is not needed: the guard dials it lazily.
func TestGuardMetricsTLS(t *testing.T) {
	dir := t.TempDir()
	if err := testcert.Write(dir); err != nil {
		t.Fatal(err)
	}
	repoDir := filepath.Join(dir, "repo")
	if _, _, err := run(t, nil, "--repo", repoDir, "init"); err != nil {
		t.Fatal(err)
	}
	httpAddr := testenv.FreeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var stderr bytes.Buffer
	go func() {
		cmd := NewRootCommand(strings.NewReader(""), io.Discard, &stderr)
		cmd.SetArgs([]string{"--repo", repoDir, "--milvus", "127.0.0.1:1", "guard", "--listen", "127.0.0.1:0", "--http-listen", httpAddr,
			"--metrics-tls-cert", filepath.Join(dir, testcert.ServerCert), "--metrics-tls-key", filepath.Join(dir, testcert.ServerKey)})
		done <- cmd.ExecuteContext(ctx)
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("guard: %v\n%s", err, stderr.String())
		}
	}()
	pem, err := os.ReadFile(filepath.Join(dir, testcert.CA))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	secure := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := secure.Get("https://" + httpAddr + "/metrics")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET /metrics over TLS: %s", resp.Status)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no HTTPS answer on %s: %v\n%s", httpAddr, err, stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	resp, err := secure.Get("https://" + httpAddr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	hb, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(hb), "ok") && !strings.Contains(string(hb), "upstream") {
		t.Errorf("/healthz over TLS: %s %q, want the guard's health answer", resp.Status, hb)
	}
	plain := &http.Client{Timeout: 5 * time.Second}
	if resp, err := plain.Get("http://" + httpAddr + "/metrics"); err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK || strings.Contains(string(b), "ok") {
			t.Errorf("plain HTTP got %s %q; want the TLS listener to refuse it", resp.Status, b)
		}
	}
}

func TestGuardMetricsTLSUsage(t *testing.T) {
	for _, args := range [][]string{
		{"guard", "--metrics-tls-cert", "c.pem"},
		{"guard", "--metrics-tls-key", "k.pem"},
		{"guard", "--metrics-tls-cert", "c.pem", "--metrics-tls-key", "k.pem", "--http-listen", ""},
		{"guard", "--metrics-tls-cert", "nope.pem", "--metrics-tls-key", "nope.key"},
	} {
		_, _, err := run(t, map[string]string{"MILVAULT_REPO": ""}, args...)
		if ExitCode(err) != errkind.Usage.ExitCode() || !strings.Contains(errString(err), "metrics") {
			t.Errorf("milvault %v: %v (exit %d), want a usage error about the metrics TLS flags", args, err, ExitCode(err))
		}
	}
}
