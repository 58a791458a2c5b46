package guard

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/milvault/milvault/internal/testcert"
	"github.com/milvault/milvault/internal/testenv"
	"github.com/milvault/milvault/milvus"
)

// clientTLS trusts the test CA and, when withCert, shows the test client
// certificate.
func clientTLS(t *testing.T, dir string, withCert bool) *tls.Config {
	t.Helper()
	pem, err := os.ReadFile(filepath.Join(dir, testcert.CA))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	conf := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	if withCert {
		cert, err := tls.LoadX509KeyPair(filepath.Join(dir, testcert.ClientCert), filepath.Join(dir, testcert.ClientKey))
		if err != nil {
			t.Fatal(err)
		}
		conf.Certificates = []tls.Certificate{cert}
	}
	return conf
}

// TestListenerTLSMilvus serves the guard over mutual TLS in front of the
// real Milvus 2.3.5 (plain): an application with the client certificate
// works through it (create, insert, count, drop into the trash); one
// without a certificate, and one speaking plain gRPC, are refused.
func TestListenerTLSMilvus(t *testing.T) {
	dir := t.TempDir()
	if err := testcert.Write(dir); err != nil {
		t.Fatal(err)
	}
	conf, err := ListenerTLS(filepath.Join(dir, testcert.ServerCert), filepath.Join(dir, testcert.ServerKey), filepath.Join(dir, testcert.CA))
	if err != nil {
		t.Fatal(err)
	}
	rg := startRealGuard(t, Config{TLS: conf, Logger: quiet()})
	ctx := context.Background()
	app, err := milvus.Connect(ctx, milvus.Config{Address: rg.addr, TLS: clientTLS(t, dir, true)})
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	name := testenv.Collection(t, app, "guardtls", 500, 4)
	t.Cleanup(func() { rg.direct.DropCollection(context.Background(), "default", name) })
	if err := app.Load(ctx, "default", name, nil); err != nil {
		t.Fatal(err)
	}
	if n, err := rg.direct.Count(ctx, "default", name); err != nil || n != 500 {
		t.Fatalf("rows written over TLS through the guard: got %d (%v), want 500", n, err)
	}
	if err := app.DropCollection(ctx, "default", name); err != nil {
		t.Fatal(err)
	}
	if _, err := (&Trash{Repo: rg.repo, Milvus: rg.direct}).Find(ctx, "default", name); err != nil {
		t.Errorf("drop over TLS: %v", err)
	}
	for what, cfg := range map[string]milvus.Config{
		"no client certificate": {Address: rg.addr, TLS: clientTLS(t, dir, false), DialTimeout: 3 * time.Second},
		"plain gRPC":            {Address: rg.addr, DialTimeout: 3 * time.Second},
	} {
		if c, err := milvus.Connect(ctx, cfg); err == nil {
			_, err = c.ListDatabases(ctx)
			c.Close()
			if err == nil {
				t.Errorf("%s: the guard answered, want a refused connection", what)
			}
		}
	}
}

// TestListenerTLSBadFiles checks that missing or wrong files are clear
// errors, not a listener without TLS.
func TestListenerTLSBadFiles(t *testing.T) {
	dir := t.TempDir()
	if err := testcert.Write(dir); err != nil {
		t.Fatal(err)
	}
	cert, key := filepath.Join(dir, testcert.ServerCert), filepath.Join(dir, testcert.ServerKey)
	for name, args := range map[string][3]string{
		"no key":           {cert, "", ""},
		"missing cert":     {filepath.Join(dir, "nope.pem"), key, ""},
		"key of other":     {cert, filepath.Join(dir, testcert.ClientKey), ""},
		"client CA absent": {cert, key, filepath.Join(dir, "nope.pem")},
		"client CA no PEM": {cert, key, key},
	} {
		if _, err := ListenerTLS(args[0], args[1], args[2]); err == nil {
			t.Errorf("%s: got no error", name)
		}
	}
}
