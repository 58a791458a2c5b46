package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/milvault/milvault/internal/cli"
	"github.com/milvault/milvault/internal/fixture"
	"github.com/milvault/milvault/milvus"
)

// targetsEnv names the servers the suite runs against, as
// "name=host:port,name2=host:port" (scripts/milvus-env.sh writes it).
const targetsEnv = "MILVAULT_TEST_TARGETS"

type target struct{ name, addr string }

// targets parses MILVAULT_TEST_TARGETS, skipping the test when it is unset.
func targets(t *testing.T) []target {
	t.Helper()
	spec := os.Getenv(targetsEnv)
	if spec == "" {
		t.Skipf("%s is not set: the end-to-end suite needs real Milvus servers (run `make test`, or scripts/milvus-env.sh start all and source .milvus-test/env)", targetsEnv)
	}
	var out []target
	for _, item := range strings.Split(spec, ",") {
		name, addr, ok := strings.Cut(strings.TrimSpace(item), "=")
		if !ok || name == "" || addr == "" {
			t.Fatalf("%s: %q is not name=host:port", targetsEnv, item)
		}
		out = append(out, target{name, addr})
	}
	return out
}

// env is one server under test.
type env struct {
	addr   string
	client *milvus.Client
	caps   fixture.Caps
	root   string // repository root, for scripts and go build
}

// newEnv connects to addr and probes its capabilities.
func newEnv(t *testing.T, addr string) *env {
	t.Helper()
	ctx := testContext(t)
	c, err := milvus.Connect(ctx, milvus.Config{Address: addr})
	if err != nil {
		t.Fatalf("connect %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	start := time.Now()
	caps, err := fixture.Capabilities(ctx, c)
	if err != nil {
		t.Fatalf("capabilities of %s: %v", addr, err)
	}
	t.Logf("server %s capabilities (probed in %s): %s", addr, time.Since(start).Round(time.Millisecond), caps)
	return &env{addr: addr, client: c, caps: caps, root: repoRoot(t)}
}

// testContext returns a context that ends with the test.
func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test directory")
		}
		dir = parent
	}
}

// uniqueName returns a collection name that no other test uses.
func uniqueName(purpose string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return "e2e_" + purpose + "_" + hex.EncodeToString(b)
}

// createFixture builds a fixture collection dropped when the test ends.
func (e *env) createFixture(t *testing.T, opts fixture.Options) *fixture.Dataset {
	t.Helper()
	opts.Caps = &e.caps
	start := time.Now()
	d, err := fixture.Create(testContext(t), e.client, opts)
	if err != nil {
		t.Fatalf("create fixture: %v", err)
	}
	t.Logf("fixture %s: %d rows in %s", d.Collection, d.Rows, time.Since(start).Round(time.Millisecond))
	t.Cleanup(func() {
		if err := d.Drop(context.Background(), e.client); err != nil {
			t.Logf("drop fixture %s: %v", d.Collection, err)
		}
	})
	return d
}

// dropLater drops a collection (restored by a test) when the test ends.
func (e *env) dropLater(t *testing.T, name string) {
	t.Cleanup(func() {
		ctx := context.Background()
		if ok, _ := e.client.HasCollection(ctx, "default", name); ok {
			if err := e.client.DropCollection(ctx, "default", name); err != nil {
				t.Logf("drop %s: %v", name, err)
			}
		}
	})
}

// result is what one milvault command printed and its exit code.
type result struct {
	stdout, stderr string
	code           int
	err            error
}

func (r result) String() string {
	return fmt.Sprintf("exit %d, error %v\nstdout: %s\nstderr: %s", r.code, r.err, r.stdout, r.stderr)
}

// milvault runs the CLI in-process against the env's server and repo.
func (e *env) milvault(t *testing.T, repo string, args ...string) result {
	t.Helper()
	return runCLI(t, append([]string{"--milvus", e.addr, "--repo", repo, "-q"}, args...)...)
}

func runCLI(t *testing.T, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := cli.NewRootCommand(strings.NewReader(""), &out, &errOut)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(testContext(t))
	r := result{stdout: out.String(), stderr: errOut.String(), code: cli.ExitCode(err), err: err}
	t.Logf("milvault %s: exit %d", strings.Join(args, " "), r.code)
	return r
}

// mustRun runs the CLI and fails the test unless it succeeds.
func (e *env) mustRun(t *testing.T, repo string, args ...string) result {
	t.Helper()
	r := e.milvault(t, repo, args...)
	if r.code != 0 {
		t.Fatalf("milvault %s failed: %s", strings.Join(args, " "), r)
	}
	return r
}

// expectFailure checks the exit code of r and that its message contains
// every one of want.
func expectFailure(t *testing.T, r result, code int, want ...string) {
	t.Helper()
	if r.code != code {
		t.Errorf("exit code = %d, want %d (%s)", r.code, code, r)
	}
	msg := ""
	if r.err != nil {
		msg = r.err.Error()
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("error message %q does not mention %q", msg, w)
		}
	}
}

// backupSummary is the part of `backup --json` the tests read.
type backupSummary struct {
	ID    string `json:"id"`
	Rows  int64  `json:"rows"`
	Files int    `json:"files"`
}

// backup backs up one collection and returns the JSON summary.
func (e *env) backup(t *testing.T, repo, coll string, extra ...string) backupSummary {
	t.Helper()
	r := e.mustRun(t, repo, append([]string{"--json", "backup", "-c", coll}, extra...)...)
	var s backupSummary
	if err := json.Unmarshal([]byte(r.stdout), &s); err != nil {
		t.Fatalf("backup --json printed %q: %v", r.stdout, err)
	}
	return s
}

// dump writes every row of coll with scripts/dump_collection.py and
// returns the dump.
func (e *env) dump(t *testing.T, coll string) []byte {
	t.Helper()
	py := filepath.Join(e.root, ".venv", "bin", "python")
	if _, err := os.Stat(py); err != nil {
		t.Skipf("no Python venv with pymilvus at %s (run scripts/milvus-env.sh install)", py)
	}
	out := filepath.Join(t.TempDir(), coll+".jsonl")
	cmd := exec.Command(py, filepath.Join(e.root, "scripts", "dump_collection.py"), e.addr, coll, out)
	msg, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("dump %s: %v\n%s", coll, err, msg)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("dumped %s: %s rows, %d bytes", coll, strings.TrimSpace(string(msg)), len(data))
	return data
}

// sameDump compares two dumps and reports the first differing line.
func sameDump(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if bytes.Equal(got, want) {
		return
	}
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := 0; i < min(len(g), len(w)); i++ {
		if g[i] != w[i] {
			t.Errorf("%s: dumps differ at line %d (%d vs %d lines):\ngot:  %.600s\nwant: %.600s", what, i+1, len(g), len(w), g[i], w[i])
			return
		}
	}
	t.Errorf("%s: dumps differ in length: got %d lines, want %d", what, len(g), len(w))
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds cmd/milvault once per test run.
func binary(t *testing.T, root string) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "milvault-e2e-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "milvault")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/milvault")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// newRepo creates a repository in a new temporary folder with `milvault
// init`, as a user would before the first backup.
func newRepo(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if r := runCLI(t, "--repo", dir, "init"); r.code != 0 {
		t.Fatalf("milvault init: %s", r)
	}
	return dir
}
