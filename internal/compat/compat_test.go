package compat

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/milvault/milvault/internal/cli"
	"github.com/milvault/milvault/internal/fixture"
	"github.com/milvault/milvault/internal/testenv"
	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/milvus"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/local"
	"github.com/milvault/milvault/verify"
)

// update regenerates the fixture repository of the current format version
// from a real server: go test ./internal/compat -run TestFixtureRepositories -update
var update = flag.Bool("update", false, "regenerate testdata/repositories/"+currentVersion+" from the first test server")

// currentVersion names the folder the current format writes its fixture
// into. A format change that older milvault cannot read gets a new folder;
// the old folders stay and keep passing.
const currentVersion = "v1"

// The fixture: two collections (one with an int64 key, custom partitions
// and an alias; one with a VarChar key), backed up together, and the first
// backed up again with one partition only.
const (
	collDocs   = "compat_docs"
	collTags   = "compat_tags"
	aliasDocs  = "compat_docs_alias"
	backupBoth = "compat-both"
	backupPart = "compat-docs-p-one"
)

// expected is what the fixture's source collections held, read from the
// server when the fixture was written: per backup name, the partition
// digests of each collection (verify.Digest of the live collection).
type expected map[string]map[string][]verify.PartitionDigest

// TestFixtureRepositories lists and verifies every fixture repository and
// compares each backed-up partition with the digest of its source
// collection (no server needed); with test servers, it also restores the
// backup of both collections into each and compares every row with the
// dump taken from the source.
func TestFixtureRepositories(t *testing.T) {
	if *update {
		regenerate(t)
	}
	dirs, err := filepath.Glob(filepath.Join(root(t), "testdata", "repositories", "v*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no fixture repositories under testdata/repositories (%v)", err)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) { checkFixture(t, dir) })
	}
}

func checkFixture(t *testing.T, dir string) {
	r := openCopy(t, filepath.Join(dir, "repo"))
	var want expected
	readJSON(t, filepath.Join(dir, "expected", "digests.json"), &want)
	ms, problems, err := r.List(context.Background())
	if err != nil || len(problems) > 0 {
		t.Fatalf("list: %v %v", err, problems)
	}
	if len(ms) != len(want) {
		t.Errorf("list shows %d backups, want %d", len(ms), len(want))
	}
	for _, m := range ms {
		checkBackup(t, r, m, want[m.Name])
	}
	if os.Getenv("MILVAULT_TEST_TARGETS") == "" {
		t.Logf("restores skipped: MILVAULT_TEST_TARGETS is not set (run `make test`, or scripts/milvus-env.sh start all and source .milvus-test/env)")
		return
	}
	for _, tg := range testenv.Targets(t) {
		t.Run("restore/"+tg.Name, func(t *testing.T) { checkRestore(t, r, dir, tg) })
	}
}

// checkBackup verifies the checksums of backup m and compares the digest
// of each stored partition, and the recorded alias, with the source's.
func checkBackup(t *testing.T, r *repo.Repository, m *manifest.Manifest, want map[string][]verify.PartitionDigest) {
	t.Helper()
	ctx := context.Background()
	rep, err := verify.Run(ctx, verify.Deps{Repo: r}, m, verify.Options{Mode: verify.ModeChecksum})
	if err != nil || !rep.OK {
		t.Errorf("verify %s: %v %+v", m.Name, err, rep)
	}
	if len(m.Collections) != len(want) {
		t.Errorf("backup %s holds %d collections, want %d", m.Name, len(m.Collections), len(want))
	}
	for i := range m.Collections {
		mc := &m.Collections[i]
		got, err := verify.BackupDigest(ctx, r, mc)
		if err != nil {
			t.Fatalf("read %s of %s: %v", mc.Name, m.Name, err)
		}
		if w := want[mc.Name]; !slices.Equal(got, w) {
			t.Errorf("backup %s, %s: stored rows digest to %+v, the source to %+v", m.Name, mc.Name, got, w)
		}
		if mc.Name == collDocs && !slices.Contains(mc.Aliases, aliasDocs) {
			t.Errorf("backup %s, %s: aliases %v, want %s", m.Name, mc.Name, mc.Aliases, aliasDocs)
		}
	}
}

// checkRestore restores the backup of both collections under a fresh
// suffix and compares every row with the dump of the source.
func checkRestore(t *testing.T, r *repo.Repository, dir string, tg testenv.Target) {
	suffix := "_" + randomHex()
	res := runCLI(t, "--milvus", tg.Address, "--repo", r.Location(), "-q", "restore", backupBoth, "--suffix", suffix)
	for _, coll := range []string{collDocs, collTags} {
		t.Cleanup(func() { dropCollection(tg.Address, coll+suffix) })
	}
	if res != nil {
		t.Fatalf("restore %s into %s: %v", backupBoth, tg.Name, res)
	}
	for _, coll := range []string{collDocs, collTags} {
		want, err := os.ReadFile(filepath.Join(dir, "expected", coll+".jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		if got := dump(t, tg.Address, coll+suffix); !bytes.Equal(got, want) {
			t.Errorf("%s restored into %s differs from the source dump (%d vs %d bytes)", coll, tg.Name, len(got), len(want))
		}
	}
}

// regenerate writes the fixture of the current version from the first test
// server: it creates the collections, backs them up with the CLI into a new
// local repository and records the source's digests and row dumps.
func regenerate(t *testing.T) {
	tg := testenv.Targets(t)[0]
	ctx := context.Background()
	c, err := milvus.Connect(ctx, milvus.Config{Address: tg.Address})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	dir := filepath.Join(root(t), "testdata", "repositories", currentVersion)
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	docs := createSource(t, c, fixture.Options{Name: collDocs, Alias: aliasDocs, Partitions: []string{"p_one", "p_two"}, Rows: 24, Dim: 4, Seed: 1})
	tags := createSource(t, c, fixture.Options{Name: collTags, Partitions: []string{}, Rows: 12, Dim: 4, Seed: 2, VarCharPK: true})
	repoDir := filepath.Join(dir, "repo")
	mustCLI(t, "--repo", repoDir, "-q", "init")
	mustCLI(t, "--milvus", tg.Address, "--repo", repoDir, "-q", "backup", "-c", collDocs, "-c", collTags, "--name", backupBoth)
	mustCLI(t, "--milvus", tg.Address, "--repo", repoDir, "-q", "backup", "-c", collDocs, "-p", "p_one", "--name", backupPart)
	want := expected{backupBoth: {}, backupPart: {}}
	for _, d := range []*fixture.Dataset{docs, tags} {
		digests, err := verify.Digest(ctx, c, d.Database, d.Collection)
		if err != nil {
			t.Fatal(err)
		}
		want[backupBoth][d.Collection] = digests
		writeFile(t, filepath.Join(dir, "expected", d.Collection+".jsonl"), dump(t, tg.Address, d.Collection))
	}
	for _, d := range want[backupBoth][collDocs] {
		if d.Partition == "p_one" {
			want[backupPart][collDocs] = []verify.PartitionDigest{d}
		}
	}
	out, _ := json.MarshalIndent(want, "", "  ")
	writeFile(t, filepath.Join(dir, "expected", "digests.json"), append(out, '\n'))
	t.Logf("wrote %s from %s", dir, tg.Name)
}

func createSource(t *testing.T, c *milvus.Client, o fixture.Options) *fixture.Dataset {
	t.Helper()
	ctx := context.Background()
	_ = c.DropCollection(ctx, "default", o.Name) // left over from an interrupted run
	d, err := fixture.Create(ctx, c, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Drop(context.Background(), c) })
	return d
}

// openCopy copies the fixture repository into a temporary folder (verify
// records proofs, and the committed fixture must not change) and opens it.
func openCopy(t *testing.T, src string) *repo.Repository {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "repo")
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	s, err := local.New(dst)
	if err != nil {
		t.Fatal(err)
	}
	r, err := repo.Open(context.Background(), s)
	if err != nil {
		t.Fatalf("open fixture repository: %v", err)
	}
	return r
}

// dump writes every row of coll with scripts/dump_collection.py (pymilvus,
// a second client independent of milvault).
func dump(t *testing.T, addr, coll string) []byte {
	t.Helper()
	py := filepath.Join(root(t), ".venv", "bin", "python")
	if _, err := os.Stat(py); err != nil {
		t.Skipf("no Python venv with pymilvus at %s (run scripts/milvus-env.sh install)", py)
	}
	out := filepath.Join(t.TempDir(), coll+".jsonl")
	if msg, err := exec.Command(py, filepath.Join(root(t), "scripts", "dump_collection.py"), addr, coll, out).CombinedOutput(); err != nil {
		t.Fatalf("dump %s: %v\n%s", coll, err, msg)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func dropCollection(addr, coll string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := milvus.Connect(ctx, milvus.Config{Address: addr})
	if err != nil {
		return
	}
	defer c.Close()
	if ok, _ := c.HasCollection(ctx, "default", coll); ok {
		_ = c.DropCollection(ctx, "default", coll)
	}
}

func runCLI(t *testing.T, args ...string) error {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := cli.NewRootCommand(strings.NewReader(""), &out, &errOut)
	cmd.SetArgs(args)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := cmd.ExecuteContext(ctx); err != nil {
		return &cliError{args: args, err: err, stderr: errOut.String()}
	}
	return nil
}

func mustCLI(t *testing.T, args ...string) {
	t.Helper()
	if err := runCLI(t, args...); err != nil {
		t.Fatal(err)
	}
}

type cliError struct {
	args   []string
	err    error
	stderr string
}

func (e *cliError) Error() string {
	return "milvault " + strings.Join(e.args, " ") + ": " + e.err.Error() + "\n" + e.stderr
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func randomHex() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func root(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return dir
}
