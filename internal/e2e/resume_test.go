package e2e

import (
	"io/fs"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/milvault/milvault/internal/fixture"
)

// TestResumeAfterKill kills a backup (SIGKILL) once it has recorded stored
// data files in its journal, finishes it with `backup --resume`, and checks
// that the resumed backup reused those files, verifies, and restores every
// row equal to the source; a second --resume finds nothing to resume. It
// encodes four files at once, so the journal must still name only files
// whose predecessors are stored.
func TestResumeAfterKill(t *testing.T) {
	for _, tg := range targets(t) {
		t.Run(tg.name, func(t *testing.T) {
			e := newEnv(t, tg.addr)
			for _, varchar := range []bool{false, true} {
				e.testResumeAfterKill(t, varchar)
			}
		})
	}
}

func (e *env) testResumeAfterKill(t *testing.T, varchar bool) {
	bin := binary(t, e.root)
	name := uniqueName("resume")
	d := e.createFixture(t, fixture.Options{Name: name, Rows: 20000, Dim: 64, Seed: 7, VarCharPK: varchar})
	repo := newRepo(t)
	args := []string{"backup", "-c", name, "--chunk-size", "64KiB", "--scan-workers", "1", "--encode-workers", "4"}
	cmd := exec.Command(bin, append([]string{"--milvus", e.addr, "--repo", repo, "-q"}, args...)...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	journal := waitForJournal(t, repo, 2*time.Minute)
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	stored := dataFiles(t, filepath.Dir(journal))
	if m := listDir(t, filepath.Join(repo, "manifests")); len(m) > 0 || len(stored) == 0 {
		t.Fatalf("the backup finished before the kill (manifests %v) or stored nothing (%v); nothing was tested", m, stored)
	}
	e.mustRun(t, repo, append(args, "--resume")...)
	resumed := filepath.Base(filepath.Dir(journal))
	if ids := e.listIDs(t, repo); len(ids) != 1 || ids[0] != resumed {
		t.Fatalf("list after the resume shows %v, want only the resumed backup %s", ids, resumed)
	}
	for _, f := range stored {
		if after := dataFiles(t, filepath.Join(repo, "data", resumed)); !contains(after, f) {
			t.Errorf("stored file %s of the killed run is not in the resumed backup (%v)", f, after)
		}
	}
	e.mustRun(t, repo, "verify", resumed)
	source := e.dump(t, name)
	target := name + "_r"
	e.dropLater(t, target)
	e.mustRun(t, repo, "restore", resumed, "--target", target)
	sameDump(t, "restored from the resumed backup vs source", e.dump(t, target), source)
	expectFailure(t, e.milvault(t, repo, append(args, "--resume")...), 3, "no interrupted backup")
	t.Logf("%s (varchar %v): killed after %d stored files, resumed as %s", d.Collection, varchar, len(stored), resumed)
}

// waitForJournal polls repo until a backup has recorded its progress and
// stored at least five data files, for up to limit (0: two minutes).
func waitForJournal(t *testing.T, repo string, limit time.Duration) string {
	t.Helper()
	if limit == 0 {
		limit = 2 * time.Minute
	}
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if m, _ := filepath.Glob(filepath.Join(repo, "data", "*", "journal.json")); len(m) > 0 && len(dataFiles(t, filepath.Dir(m[0]))) >= 5 {
			return m[0]
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Fatalf("no backup recorded progress in %s within %s", repo, limit)
	return ""
}

// dataFiles lists the .parquet files under dir, relative to it.
func dataFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".parquet") {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return nil
	})
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
