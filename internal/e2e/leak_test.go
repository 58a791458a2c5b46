package e2e

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/milvault/milvault/internal/fixture"
	"github.com/milvault/milvault/repo/location"
)

// leakSecret is a known secret string the leak test hands to milvault.
type leakSecret struct {
	what, value string
}

// leakWatch collects the secrets and everything the commands printed.
type leakWatch struct {
	secrets []leakSecret
	outputs []string // "<command>: <stdout+stderr+error>"
}

func newSecret(what string) string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return "Leak-" + what + "-" + hex.EncodeToString(b)
}

func (w *leakWatch) add(what, value string) {
	if value != "" {
		w.secrets = append(w.secrets, leakSecret{what, value})
	}
}

// run runs the CLI and keeps what it printed (stdout, stderr, the error).
func (w *leakWatch) run(t *testing.T, args ...string) result {
	t.Helper()
	r := runCLI(t, args...)
	w.outputs = append(w.outputs, strings.Join(args, " ")+"\n"+r.String())
	return r
}

// check fails the test for every secret found in the outputs or in data
// (a file's content, named where).
func (w *leakWatch) check(t *testing.T, where string, data []byte) {
	t.Helper()
	for _, s := range w.secrets {
		if bytes.Contains(data, []byte(s.value)) {
			t.Errorf("the %s appears in %s", s.what, where)
		}
	}
}

func (w *leakWatch) checkOutputs(t *testing.T) {
	t.Helper()
	for _, o := range w.outputs {
		cmd, _, _ := strings.Cut(o, "\n")
		w.check(t, "the output of milvault "+cmd, []byte(o))
	}
}

// checkDir searches every file under dir.
func (w *leakWatch) checkDir(t *testing.T, dir string) {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		n++
		w.check(t, path, data)
		return nil
	})
	if err != nil || n == 0 {
		t.Errorf("search %s: %d files, %v", dir, n, err)
	}
}

// checkStore searches every object of the repository at loc.
func (w *leakWatch) checkStore(t *testing.T, loc string) {
	t.Helper()
	ctx := testContext(t)
	s, err := location.Open(ctx, loc)
	if err != nil {
		t.Fatal(err)
	}
	files, err := s.List(ctx, "")
	if err != nil || len(files) == 0 {
		t.Fatalf("list %s: %d files, %v", s.Location(), len(files), err)
	}
	for _, f := range files {
		rc, err := s.Open(ctx, f.Name)
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		w.check(t, s.Location()+" "+f.Name, data)
	}
}

// TestSecretsNeverLeak runs the commands of the end-to-end suite with known
// secret strings (a Milvus token from the environment and from a file, a
// wrong token, the S3 secret key of the MinIO repository) and searches all
// they printed (text and --json, progress, --log-store logs, errors) and
// every file they wrote in the repositories for them. To cover another
// secret, hand it to the commands and add it with w.add.
func TestSecretsNeverLeak(t *testing.T) {
	tg := targets(t)[0]
	e := newEnv(t, tg.addr)
	d := e.createFixture(t, fixture.Options{Name: uniqueName("leak"), Rows: 300, Dim: 8, Partitions: []string{}})
	w := &leakWatch{}
	// The test servers run without authorization, so they accept any token:
	// the tokens travel on every call without being checked.
	envToken, fileToken := "leak:"+newSecret("env-token"), "leak:"+newSecret("file-token")
	w.add("token from MILVAULT_TOKEN", envToken)
	w.add("token from --token-file", fileToken)
	t.Setenv("MILVAULT_TOKEN", envToken)
	repo := t.TempDir()
	g := []string{"--milvus", tg.addr, "--repo", repo}
	w.run(t, append(g, "init")...)
	r := w.run(t, append(g, "--json", "backup", "-c", d.Collection, "--name", "leak", "--verify=quick", "--log-store")...)
	if r.code != 0 {
		t.Fatalf("backup: %s", r)
	}
	w.run(t, append(g, "backup", "-c", d.Collection)...) // text progress
	for _, args := range [][]string{{"list"}, {"--json", "list"}, {"show", "leak", "--files"}, {"--json", "show", "leak"},
		{"verify", "leak", "--mode", "deep"}, {"--json", "verify", "leak"}, {"--json", "drill", "leak"}, {"--json", "doctor"}} {
		w.run(t, append(g, args...)...)
	}
	restored := d.Collection + "_leak"
	e.dropLater(t, restored)
	tokenFile := filepath.Join(t.TempDir(), "token")
	os.WriteFile(tokenFile, []byte(fileToken+"\n"), 0o600)
	t.Setenv("MILVAULT_TOKEN", "")
	if r := w.run(t, append(g, "--token-file", tokenFile, "restore", "leak", "--target", restored)...); r.code != 0 {
		t.Errorf("restore with --token-file: %s", r)
	}
	// Failures: nothing listens on port 1, and an unknown backup.
	w.run(t, "--milvus", "127.0.0.1:1", "--repo", repo, "--token-file", tokenFile, "backup", "-c", d.Collection)
	w.run(t, append(g, "--token-file", tokenFile, "--json", "restore", "no-such-backup")...)
	if os.Getenv("MILVAULT_TEST_S3_ENDPOINT") != "" {
		url := s3RepoURL(t, "leak")
		w.add("S3 secret key", os.Getenv("AWS_SECRET_ACCESS_KEY"))
		s3 := []string{"--milvus", tg.addr, "--repo", url, "--token-file", tokenFile, "--log-store"}
		if r := w.run(t, append(s3, "--json", "backup", "--init", "-c", d.Collection, "--verify")...); r.code != 0 {
			t.Errorf("backup to S3: %s", r)
		}
		w.run(t, append(s3, "--json", "list")...)
		w.checkStore(t, url)
	} else {
		t.Log("MILVAULT_TEST_S3_ENDPOINT is not set: the S3 keys are not part of this run")
	}
	w.checkOutputs(t)
	w.checkDir(t, repo)
	if len(w.outputs) < 12 {
		t.Errorf("only %d commands ran", len(w.outputs))
	}
}
