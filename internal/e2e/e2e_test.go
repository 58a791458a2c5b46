// Package e2e runs milvault end to end against real Milvus servers: fixture
// collections are backed up and restored through the CLI and compared with
// an independent client (scripts/dump_collection.py).
package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/milvault/milvault/internal/fixture"
)

// TestMain removes the milvault binary the SIGKILL test builds.
func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// TestEndToEnd runs the suite against every server of MILVAULT_TEST_TARGETS.
func TestEndToEnd(t *testing.T) {
	for _, tg := range targets(t) {
		t.Run(tg.name, func(t *testing.T) {
			start := time.Now()
			e := newEnv(t, tg.addr)
			t.Run("roundtrip", e.testRoundTrip)
			t.Run("restore_new_name", e.testRestoreNewName)
			t.Run("sigkill", e.testSigkill)
			t.Run("bad_inputs", e.testBadInputs)
			t.Run("auto_id", e.testAutoID)
			t.Logf("suite against %s took %s", tg.name, time.Since(start).Round(time.Second))
		})
	}
}

// testRoundTrip is the acceptance test: back up a 20,000-row collection
// (encoding four files at once), drop it, restore it, and find every row,
// the schema, partitions, indexes, alias, load state and search results
// unchanged.
func (e *env) testRoundTrip(t *testing.T) {
	name := uniqueName("rt")
	d := e.createFixture(t, fixture.Options{Name: name, Alias: name + "_alias", Rows: 20000, Dim: 128, Seed: 1})
	before := e.takeSnapshot(t, d, name)
	repo := newRepo(t)
	sum := e.backup(t, repo, name, "--chunk-size", "1MiB", "--encode-workers", "4")
	if sum.Rows != int64(d.Rows) || sum.Files < 2 {
		t.Errorf("backup has %d rows in %d files, want %d rows in several files", sum.Rows, sum.Files, d.Rows)
	}
	source := e.dump(t, name)
	ctx := testContext(t)
	if err := e.client.DropAlias(ctx, d.Database, d.Alias); err != nil {
		t.Fatal(err)
	}
	if err := e.client.DropCollection(ctx, d.Database, name); err != nil {
		t.Fatal(err)
	}
	e.mustRun(t, repo, "restore", sum.ID, "--aliases")
	sameDump(t, "restored vs source", e.dump(t, name), source)
	compareSnapshots(t, before, e.takeSnapshot(t, d, name), name)
}

// testRestoreNewName restores next to the original, then refuses to
// overwrite it unless told to.
func (e *env) testRestoreNewName(t *testing.T) {
	name := uniqueName("nn")
	e.createFixture(t, fixture.Options{Name: name, Rows: 3000, Seed: 2})
	repo := newRepo(t)
	sum := e.backup(t, repo, name)
	copyName := name + "_copy"
	e.dropLater(t, copyName)
	e.mustRun(t, repo, "restore", sum.ID, "--target", copyName)
	source := e.dump(t, name)
	sameDump(t, "copy vs source", e.dump(t, copyName), source)

	r := e.milvault(t, repo, "restore", sum.ID)
	expectFailure(t, r, 6, "--drop-existing", name)
	e.mustRun(t, repo, "restore", sum.ID, "--drop-existing", "--yes")
	sameDump(t, "replaced vs source", e.dump(t, name), source)
}

// testAutoID backs up an auto_id collection and restores it keeping the
// keys, then with new keys.
func (e *env) testAutoID(t *testing.T) {
	name := uniqueName("auto")
	e.createFixture(t, fixture.Options{Name: name, Rows: 1000, Dim: 16, Seed: 3, AutoID: true, Partitions: []string{}})
	repo := newRepo(t)
	sum := e.backup(t, repo, name)
	source := e.dump(t, name)

	kept := name + "_kept"
	e.dropLater(t, kept)
	r := e.mustRun(t, repo, "restore", sum.ID, "--target", kept)
	if !strings.Contains(r.stderr, "warning:") || !strings.Contains(strings.ToLower(r.stderr), "auto") {
		t.Errorf("restore of an auto_id collection with preserved keys printed no auto_id warning; stderr: %q", r.stderr)
	}
	sameDump(t, "preserved keys vs source", e.dump(t, kept), source)

	regen := name + "_regen"
	e.dropLater(t, regen)
	e.mustRun(t, repo, "restore", sum.ID, "--target", regen, "--auto-id", "regenerate")
	got, want := column(t, e.dump(t, regen), fixture.FieldVector), column(t, source, fixture.FieldVector)
	if len(got) != len(want) {
		t.Fatalf("regenerated collection has %d rows, want %d", len(got), len(want))
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("regenerated collection's vectors differ from the source's (as multisets)")
	}
}

// column returns one field of every row of a dump, as JSON text.
func column(t *testing.T, dump []byte, field string) []string {
	t.Helper()
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(string(dump)), "\n") {
		if line == "" {
			continue
		}
		var row map[string]json.RawMessage
		if err := json.Unmarshal([]byte(line), &row); err != nil {
			t.Fatalf("dump line %.200q: %v", line, err)
		}
		out = append(out, string(row[field]))
	}
	return out
}
