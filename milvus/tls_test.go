package milvus

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/milvault/milvault/errkind"
)

func TestTLSFilesConfig(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		files TLSFiles
		want  string // "" for no error
	}{
		{"empty", TLSFiles{}, ""},
		{"server name only", TLSFiles{ServerName: "m.example"}, ""},
		{"cert without key", TLSFiles{Cert: notPEM}, "give both"},
		{"key without cert", TLSFiles{Key: notPEM}, "give both"},
		{"missing CA", TLSFiles{CA: filepath.Join(dir, "nope.pem")}, "--tls-ca"},
		{"CA not PEM", TLSFiles{CA: notPEM}, "no PEM certificate"},
		{"bad key pair", TLSFiles{Cert: notPEM, Key: notPEM}, "cannot load the client certificate"},
	}
	for _, tt := range tests {
		conf, err := tt.files.Config()
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.want == "" && (conf == nil) != tt.files.Empty():
			t.Errorf("%s: config %v, want nil only for no settings", tt.name, conf)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.want)
		case tt.want != "" && errkind.Of(err) != errkind.Usage:
			t.Errorf("%s: kind %v, want usage", tt.name, errkind.Of(err))
		}
	}
}

// A TLS client at a plain-text server is told to drop TLS, and the probe
// says the server offers none.
func TestConnectTLSToPlainServer(t *testing.T) {
	addr := serve(t, &fakeServer{})
	_, err := Connect(context.Background(), Config{Address: "https://" + addr, DialTimeout: 3 * time.Second})
	var te *TLSError
	if !errors.As(err, &te) || !strings.Contains(err.Error(), "does not speak TLS") {
		t.Fatalf("TLS connect to a plain server = %v, want a TLSError saying it does not speak TLS", err)
	}
	if errkind.Of(err) != errkind.Unreachable {
		t.Errorf("kind = %v, want unreachable", errkind.Of(err))
	}
	st, err := ProbeTLS(context.Background(), addr, nil)
	if err != nil || st.Offered {
		t.Errorf("probe of a plain server = %+v, %v; want not offered", st, err)
	}
}
