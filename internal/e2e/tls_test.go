package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/milvault/milvault/internal/fixture"
	"github.com/milvault/milvault/internal/testcert"
	"github.com/milvault/milvault/milvus"
)

// TestTLSEndToEnd backs up and restores through the CLI over TLS to the
// real Milvus that scripts/test.sh starts with TLS on
// (MILVAULT_TEST_TLS_MILVUS, MILVAULT_TEST_TLS_MODE 1 or 2,
// MILVAULT_TEST_TLS_DIR with the certificates of package testcert): with
// flags and with the config file; a plain-text backup is refused, and
// doctor reports TLS from its handshake even for an address without
// https://.
func TestTLSEndToEnd(t *testing.T) {
	addr, mode, dir := os.Getenv("MILVAULT_TEST_TLS_MILVUS"), os.Getenv("MILVAULT_TEST_TLS_MODE"), os.Getenv("MILVAULT_TEST_TLS_DIR")
	if addr == "" || dir == "" || (mode != "1" && mode != "2") {
		t.Skip("MILVAULT_TEST_TLS_MILVUS, MILVAULT_TEST_TLS_MODE (1 or 2) and MILVAULT_TEST_TLS_DIR are not set: no Milvus with TLS on (scripts/test.sh starts one)")
	}
	files := milvus.TLSFiles{CA: filepath.Join(dir, testcert.CA)}
	flags := []string{"--milvus", "https://" + addr, "--tls-ca", files.CA}
	if mode == "2" {
		files.Cert, files.Key = filepath.Join(dir, testcert.ClientCert), filepath.Join(dir, testcert.ClientKey)
		flags = append(flags, "--tls-cert", files.Cert, "--tls-key", files.Key)
	}
	conf, err := files.Config()
	if err != nil {
		t.Fatal(err)
	}
	ctx := testContext(t)
	c, err := milvus.Connect(ctx, milvus.Config{Address: "https://" + addr, TLS: conf})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	d, err := fixture.Create(ctx, c, fixture.Options{Name: uniqueName("tls"), Rows: 200, Dim: 8, Partitions: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Drop(ctx, c)
	repo := newRepo(t)

	r := runCLI(t, append(flags, "--repo", repo, "-q", "--json", "backup", "-c", d.Collection)...)
	if r.code != 0 {
		t.Fatalf("backup over TLS: %s", r)
	}
	var sum backupSummary
	if err := json.Unmarshal([]byte(r.stdout), &sum); err != nil || sum.Rows != int64(d.Rows) {
		t.Fatalf("backup --json = %q (%v), want %d rows", r.stdout, err, d.Rows)
	}

	// The same settings from a config file.
	cfg := filepath.Join(t.TempDir(), "milvault.yaml")
	yaml := "milvus: https://" + addr + "\ntls-ca: " + files.CA + "\nrepo: " + repo + "\n"
	if mode == "2" {
		yaml += "tls-cert: " + files.Cert + "\ntls-key: " + files.Key + "\n"
	}
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	restored := d.Collection + "_r"
	if r := runCLI(t, "--config", cfg, "-q", "restore", sum.ID, "--target", restored); r.code != 0 {
		t.Fatalf("restore over TLS with the config file: %s", r)
	}
	defer c.DropCollection(ctx, "default", restored)
	if n, err := c.Count(ctx, "default", restored); err != nil || n != int64(d.Rows) {
		t.Errorf("restored %s has %d rows (%v), want %d", restored, n, err, d.Rows)
	}

	r = runCLI(t, "--milvus", addr, "--repo", repo, "-q", "backup", "-c", d.Collection)
	expectFailure(t, r, 4, "the server requires TLS", "https://")

	// doctor: TLS from the handshake, even though the address has no scheme.
	args := append([]string{"--json", "doctor", "--milvus", addr}, flags[2:]...)
	r = runCLI(t, args...)
	if !strings.Contains(r.stdout, `"tls": true`) || !strings.Contains(r.stdout, `"verified": true`) {
		t.Errorf("doctor over TLS does not report a verified TLS handshake: %s", r)
	}
	if strings.Contains(r.stdout, "is not encrypted") {
		t.Errorf("doctor calls the TLS connection unencrypted: %s", r.stdout)
	}
}
