package milvus_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/milvault/milvault/internal/testcert"
	"github.com/milvault/milvault/milvus"
)

// tlsServer is a real Milvus with TLS on, as scripts/test.sh starts it:
// MILVAULT_TEST_TLS_MILVUS (host:port), MILVAULT_TEST_TLS_MODE (1 one-way,
// 2 mutual) and MILVAULT_TEST_TLS_DIR (the certificates of package
// testcert the server was started with).
type tlsServer struct {
	addr string
	mode string
	dir  string
}

func tlsTarget(t *testing.T) tlsServer {
	t.Helper()
	s := tlsServer{os.Getenv("MILVAULT_TEST_TLS_MILVUS"), os.Getenv("MILVAULT_TEST_TLS_MODE"), os.Getenv("MILVAULT_TEST_TLS_DIR")}
	if s.addr == "" || s.dir == "" || (s.mode != "1" && s.mode != "2") {
		t.Skip("MILVAULT_TEST_TLS_MILVUS, MILVAULT_TEST_TLS_MODE (1 or 2) and MILVAULT_TEST_TLS_DIR are not set: no Milvus with TLS on to test against (scripts/test.sh starts one)")
	}
	return s
}

func (s tlsServer) file(name string) string { return filepath.Join(s.dir, name) }

// files returns the TLS settings a correct client uses for the mode.
func (s tlsServer) files() milvus.TLSFiles {
	f := milvus.TLSFiles{CA: s.file(testcert.CA)}
	if s.mode == "2" {
		f.Cert, f.Key = s.file(testcert.ClientCert), s.file(testcert.ClientKey)
	}
	return f
}

func (s tlsServer) connect(ctx context.Context, address string, f milvus.TLSFiles) (*milvus.Client, error) {
	conf, err := f.Config()
	if err != nil {
		return nil, err
	}
	return milvus.Connect(ctx, milvus.Config{Address: address, TLS: conf, DialTimeout: 10 * time.Second})
}

// TestTLS connects to the real Milvus with TLS on: the right settings work,
// and every wrong one (plain text, untrusted CA, wrong server name, no
// client certificate under mutual TLS) is refused with advice naming the
// setting to fix.
func TestTLS(t *testing.T) {
	s := tlsTarget(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	good := s.files()
	c, err := s.connect(ctx, "https://"+s.addr, good)
	if err != nil {
		t.Fatalf("connect with TLS (mode %s): %v", s.mode, err)
	}
	if _, err := c.ListCollections(ctx, "default"); err != nil {
		t.Errorf("list collections over TLS: %v", err)
	}
	c.Close()

	named := good
	named.ServerName = testcert.ServerName
	c, err = s.connect(ctx, "https://"+s.addr, named)
	if err != nil {
		t.Errorf("connect with --tls-server-name %s: %v", testcert.ServerName, err)
	} else {
		c.Close()
	}

	wrongName, otherCA, noClient := good, good, good
	wrongName.ServerName = "not-the-server.test"
	otherCA.CA = s.file(testcert.OtherCA)
	noClient.Cert, noClient.Key = "", ""
	cases := []struct {
		name    string
		address string
		files   milvus.TLSFiles
		want    string
	}{
		{"plain text", s.addr, milvus.TLSFiles{}, "the server requires TLS"},
		{"http scheme", "http://" + s.addr, milvus.TLSFiles{}, "the server requires TLS"},
		{"system roots", "https://" + s.addr, milvus.TLSFiles{}, "--tls-ca"},
		{"unrelated CA", "https://" + s.addr, otherCA, "--tls-ca"},
		{"wrong server name", "https://" + s.addr, wrongName, "--tls-server-name"},
	}
	if s.mode == "2" {
		cases = append(cases, struct {
			name    string
			address string
			files   milvus.TLSFiles
			want    string
		}{"no client certificate", "https://" + s.addr, noClient, "--tls-cert and --tls-key"})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := s.connect(ctx, tc.address, tc.files)
			if err == nil {
				_, err = c.ListCollections(ctx, "default")
				c.Close()
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("connect = %v, want an error containing %q", err, tc.want)
			}
			t.Logf("refused: %v", err)
		})
	}
}

// TestProbeTLS checks what a handshake with the real TLS server shows,
// whatever scheme the address has.
func TestProbeTLS(t *testing.T) {
	s := tlsTarget(t)
	ctx := context.Background()
	conf, err := s.files().Config()
	if err != nil {
		t.Fatal(err)
	}
	st, err := milvus.ProbeTLS(ctx, s.addr, conf)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Offered || !st.Verified || st.Version == "" || !strings.Contains(st.Subject, "localhost") {
		t.Errorf("probe with the CA = %+v, want offered, verified, a version and the subject localhost", st)
	}
	if st.ClientCertRequested != (s.mode == "2") {
		t.Errorf("client certificate requested = %v in TLS mode %s", st.ClientCertRequested, s.mode)
	}
	st, err = milvus.ProbeTLS(ctx, s.addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Offered || st.Verified || st.Problem == "" {
		t.Errorf("probe with the system roots = %+v, want offered, not verified, with the problem", st)
	}
}
