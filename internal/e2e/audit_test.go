package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/milvault/milvault/audit"
	"github.com/milvault/milvault/internal/fixture"
)

// firstTarget is the Milvus 2.3 target when there is one (the audit and
// object-lock tests are about the repository, so one server is enough).
func firstTarget(t *testing.T) target {
	t.Helper()
	ts := targets(t)
	for _, tg := range ts {
		if strings.Contains(tg.name, "23") {
			return tg
		}
	}
	return ts[0]
}

// TestAuditTrailAndDestructiveCommands backs up, restores (once dropping
// an existing collection), deletes and checks on a real Milvus that every
// writing command left one audit entry with its backups and collections,
// that the destructive commands listed what they remove before acting,
// that delete refuses the last backup of a collection without --force, and
// that `audit verify` passes on the untouched trail and names a removed
// entry.
func TestAuditTrailAndDestructiveCommands(t *testing.T) {
	tg := firstTarget(t)
	e := newEnv(t, tg.addr)
	repo := filepath.Join(t.TempDir(), "repo")
	e.mustRun(t, repo, "init")
	name := uniqueName("audit")
	e.createFixture(t, fixture.Options{Name: name, Rows: 300, Dim: 8, Seed: 3})
	b1, b2 := e.backup(t, repo, name), e.backup(t, repo, name)
	e.dropLater(t, name+"_r")
	e.mustRun(t, repo, "restore", b1.ID, "-c", name, "--target", name+"_r")

	drop := runCLI(t, "--milvus", e.addr, "--repo", repo, "restore", b2.ID, "-c", name, "--target", name+"_r", "--drop-existing")
	expectFailure(t, drop, 6, "pass --yes")
	if !strings.Contains(drop.stderr, "will drop existing collection default."+name+"_r") {
		t.Errorf("restore --drop-existing did not list the collection it drops: %s", drop)
	}
	e.mustRun(t, repo, "restore", b2.ID, "-c", name, "--target", name+"_r", "--drop-existing", "--yes")

	del := runCLI(t, "--repo", repo, "delete", b1.ID, "--yes")
	if del.code != 0 || !strings.Contains(del.stderr, "will remove backup "+b1.ID) || !strings.Contains(del.stderr, "data/"+b1.ID+"/") {
		t.Fatalf("delete %s: want it to list the manifest and data files first: %s", b1.ID, del)
	}
	expectFailure(t, e.milvault(t, repo, "delete", b2.ID, "--yes"), 6, "last backup of default."+name, "--force")
	e.mustRun(t, repo, "delete", b2.ID, "--yes", "--force")

	entries := auditEntries(t, e, repo)
	want := []struct {
		op, backup string
	}{{audit.OpBackup, b1.ID}, {audit.OpBackup, b2.ID}, {audit.OpRestore, b1.ID}, {audit.OpRestore, b2.ID}, {audit.OpDelete, b1.ID}, {audit.OpDelete, b2.ID}}
	if len(entries) != len(want) {
		t.Fatalf("audit lists %d entries, want %d: %+v", len(entries), len(want), entries)
	}
	for i, w := range want {
		got := entries[i]
		if got.Operation != w.op || len(got.BackupIDs) != 1 || got.BackupIDs[0] != w.backup || got.Result != audit.ResultOK || got.User == "" || got.Host == "" || len(got.Collections) == 0 {
			t.Errorf("entry %d = %+v; want %s of %s, ok, with user, host and collections", i, got, w.op, w.backup)
		}
	}
	if entries[3].Params["drop_existing"] != true || entries[5].Params["force"] != true {
		t.Errorf("params do not record --drop-existing / --force: %v / %v", entries[3].Params, entries[5].Params)
	}
	e.mustRun(t, repo, "audit", "verify")

	if err := os.Remove(filepath.Join(repo, entries[2].Name)); err != nil {
		t.Fatal(err)
	}
	expectFailure(t, e.milvault(t, repo, "audit", "verify"), 5, entries[2].Name+" is missing: it was removed")
}

// auditEntries runs `milvault audit --json`.
func auditEntries(t *testing.T, e *env, repo string) []audit.Entry {
	t.Helper()
	r := e.mustRun(t, repo, "--json", "audit")
	var out []audit.Entry
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("audit --json printed %q: %v", r.stdout, err)
	}
	return out
}
