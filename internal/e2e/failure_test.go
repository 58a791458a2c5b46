package e2e

import (
	"encoding/json"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/milvault/milvault/internal/fixture"
)

// testSigkill kills a backup while it writes its first data file and checks
// that nothing half-written shows, and that the next backup cleans up.
func (e *env) testSigkill(t *testing.T) {
	bin := binary(t, e.root)
	name := uniqueName("kill")
	e.createFixture(t, fixture.Options{Name: name, Rows: 20000, Seed: 4})
	repo := newRepo(t)
	cmd := exec.Command(bin, "--milvus", e.addr, "--repo", repo, "-q", "backup", "-c", name, "--chunk-size", "64KiB")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	first := waitForDataFile(t, repo, 2*time.Minute)
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	t.Logf("killed the backup when %s appeared", first)
	if m := listDir(t, filepath.Join(repo, "manifests")); len(m) > 0 {
		t.Fatalf("the backup finished before the kill (manifests %v); nothing was tested", m)
	}
	if got := e.listIDs(t, repo); len(got) != 0 {
		t.Errorf("list after the kill shows backups %v, want none", got)
	}
	leftovers := append(listDir(t, filepath.Join(repo, "pending")), listDir(t, filepath.Join(repo, "data"))...)
	if len(leftovers) == 0 {
		t.Errorf("no leftovers in pending/ or data/ after the kill; the test did not interrupt a backup")
	}
	r := e.mustRun(t, repo, "backup", "-c", name)
	if !strings.Contains(r.stderr, "removed the leftovers") {
		t.Errorf("second backup did not say it removed the leftovers; stderr: %q", r.stderr)
	}
	ids := e.listIDs(t, repo)
	if len(ids) != 1 {
		t.Fatalf("list after the second backup shows %v, want one backup", ids)
	}
	if got := listDir(t, filepath.Join(repo, "data")); len(got) != 1 || got[0] != ids[0] {
		t.Errorf("data/ holds %v, want only [%s]", got, ids[0])
	}
}

// waitForDataFile polls repo until a file exists under data/.
func waitForDataFile(t *testing.T, repo string, limit time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		var found string
		_ = filepath.WalkDir(filepath.Join(repo, "data"), func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				found = p
				return fs.SkipAll
			}
			return nil
		})
		if found != "" {
			return found
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Fatalf("no data file appeared in %s within %s", repo, limit)
	return ""
}

// listDir returns the names in dir; a missing dir is empty.
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// listIDs returns the ids `list --json` shows.
func (e *env) listIDs(t *testing.T, repo string) []string {
	t.Helper()
	r := e.mustRun(t, repo, "--json", "list")
	var entries []struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &entries); err != nil {
		t.Fatalf("list --json printed %q: %v", r.stdout, err)
	}
	var ids []string
	for _, en := range entries {
		ids = append(ids, en.ID)
	}
	return ids
}

// testBadInputs checks the exit code and message of each kind of bad input.
func (e *env) testBadInputs(t *testing.T) {
	name := uniqueName("bad")
	d := e.createFixture(t, fixture.Options{Name: name, Rows: 600, Dim: 16, Seed: 5})
	repo := newRepo(t)
	sum := e.backup(t, repo, name)
	restoredName := name + "_restored"
	e.dropLater(t, restoredName)

	t.Run("unknown collection", func(t *testing.T) {
		expectFailure(t, e.milvault(t, repo, "backup", "-c", name+"_nope"), 3, name+"_nope", "available", name)
	})
	t.Run("unknown partition", func(t *testing.T) {
		r := e.milvault(t, repo, "backup", "-c", name, "-p", "p_nope")
		expectFailure(t, r, 3, append([]string{"p_nope"}, d.Partitions...)...)
	})
	t.Run("unknown backup", func(t *testing.T) {
		expectFailure(t, e.milvault(t, repo, "restore", "no-such-backup"), 3, "no-such-backup", sum.ID)
	})
	t.Run("repository is a file", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "file")
		if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		expectFailure(t, e.milvault(t, file, "list"), 2, file, "not a directory")
	})
	t.Run("repository with foreign files", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o644); err != nil {
			t.Fatal(err)
		}
		expectFailure(t, e.milvault(t, dir, "backup", "-c", name), 3, dir, "not a milvault repository")
	})
	t.Run("unreachable milvus", func(t *testing.T) {
		addr := unusedAddress(t)
		start := time.Now()
		r := runCLI(t, "--milvus", addr, "--repo", repo, "-q", "backup", "-c", name)
		expectFailure(t, r, 4, addr)
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("reporting unreachable %s took %s, want a few seconds", addr, took.Round(time.Millisecond))
		}
	})
	t.Run("damaged data file", func(t *testing.T) {
		e.testDamagedFile(t, repo, sum.ID, restoredName)
	})
	t.Run("malformed manifest", func(t *testing.T) {
		e.testMalformedManifest(t, repo, sum.ID, restoredName)
	})
}

// testDamagedFile flips a byte of a data file: restore must refuse with
// exit code 5, name the file and create nothing.
func (e *env) testDamagedFile(t *testing.T, repo, id, target string) {
	var file string
	_ = filepath.WalkDir(filepath.Join(repo, "data", id), func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".parquet") && file == "" {
			file = p
		}
		return nil
	})
	if file == "" {
		t.Fatalf("backup %s has no parquet file", id)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	damaged := append([]byte(nil), data...)
	damaged[len(damaged)/2] ^= 0xff
	if err := os.WriteFile(file, damaged, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.WriteFile(file, data, 0o644) })
	r := e.milvault(t, repo, "restore", id, "--target", target)
	expectFailure(t, r, 5, filepath.Base(file))
	e.expectNoCollection(t, target)
}

// testMalformedManifest writes garbage into a manifest: show must call it
// malformed and restore must refuse.
func (e *env) testMalformedManifest(t *testing.T, repo, id, target string) {
	path := filepath.Join(repo, "manifests", id+".json")
	if err := os.WriteFile(path, []byte("{garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := e.milvault(t, repo, "show", id)
	if r.code != 5 || !strings.Contains(r.stderr+errText(r), "malformed manifest") {
		t.Errorf("show of a garbage manifest: want a failure saying malformed manifest, got %s", r)
	}
	r = e.milvault(t, repo, "restore", id, "--target", target)
	if r.code != 5 {
		t.Errorf("restore from a garbage manifest: want exit 5 (damaged), got %s", r)
	}
	t.Logf("restore from a garbage manifest: %s", r)
	e.expectNoCollection(t, target)
}

func errText(r result) string {
	if r.err == nil {
		return ""
	}
	return r.err.Error()
}

func (e *env) expectNoCollection(t *testing.T, name string) {
	t.Helper()
	ok, err := e.client.HasCollection(testContext(t), "default", name)
	if err != nil {
		t.Fatal(err)
	}
	if ok {
		t.Errorf("collection %s exists after a refused restore", name)
	}
}

// unusedAddress returns a local address nothing listens on.
func unusedAddress(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}
