package cli

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/milvault/milvault/errkind"
)

func TestTokenOnCommandLineWarns(t *testing.T) {
	repo := filepath.Join(t.TempDir(), "r")
	if _, _, err := run(t, nil, "--repo", repo, "init"); err != nil {
		t.Fatal(err)
	}
	_, stderr, err := run(t, nil, "--repo", repo, "--token", "u:secret-on-argv", "list")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr, tokenWarning) {
		t.Errorf("stderr %q lacks the --token warning", stderr)
	}
	if strings.Contains(stderr, "secret-on-argv") {
		t.Errorf("stderr repeats the token: %q", stderr)
	}
	_, stderr, err = run(t, map[string]string{"MILVAULT_TOKEN": "u:from-env"}, "--repo", repo, "list")
	if err != nil || strings.Contains(stderr, "warning") {
		t.Errorf("token from the environment: err %v, stderr %q; want no warning", err, stderr)
	}
}

func TestTokenFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "token")
	if err := os.WriteFile(file, []byte("svc:from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	g := &GlobalOptions{stderr: io.Discard}
	g.TokenFile = file
	if err := g.resolveToken(false); err != nil || g.Token != "svc:from-file" {
		t.Errorf("token from file = %q, %v; want svc:from-file", g.Token, err)
	}
	g = &GlobalOptions{stderr: io.Discard, Token: "a:b"}
	g.TokenFile = file
	if err := g.resolveToken(true); errkind.Of(err) != errkind.Usage {
		t.Errorf("--token and --token-file: %v, want a usage error", err)
	}
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, nil, 0o600)
	for _, f := range []string{empty, filepath.Join(dir, "missing")} {
		g = &GlobalOptions{stderr: io.Discard}
		g.TokenFile = f
		if err := g.resolveToken(false); errkind.Of(err) != errkind.Usage {
			t.Errorf("token file %s: %v, want a usage error", f, err)
		}
	}
}
