package e2e

import (
	"bytes"
	"crypto/sha256"
	binenc "encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/milvault/milvault/internal/fixture"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/location"
)

// TestEncryptedRepositories proves issue 14's encryption against real
// servers: a passphrase repository in MinIO and a recipient repository in
// a folder take backups without any key (a write-only host), hide every
// name and vector, refuse restores without the key or with a wrong one,
// fail on a changed byte before creating anything, restore equal with the
// key, change keys without rewriting data, and copy ciphertext as it is.
func TestEncryptedRepositories(t *testing.T) {
	tgs := targets(t)
	tg := tgs[0] // the crypto does not depend on the server: one is enough, Milvus 2.3.5 when listed
	for _, c := range tgs {
		if c.name == "milvus23" {
			tg = c
		}
	}
	e := newEnv(t, tg.addr)
	t.Run("passphrase_s3", func(t *testing.T) { e.testEncryptedPassphrase(t, s3RepoURL(t, "enc")) })
	t.Run("recipients", e.testEncryptedRecipients)
}

// encFixture creates a small collection in its own database, so that both
// names are unique strings to search the repository for.
func (e *env) encFixture(t *testing.T, purpose string) *fixture.Dataset {
	name := uniqueName(purpose)
	return e.createFixture(t, fixture.Options{Database: "db_" + name, Name: name, Rows: 3000, Dim: 16, Seed: 14})
}

func (e *env) testEncryptedPassphrase(t *testing.T, repoURL string) {
	d := e.encFixture(t, "encpw")
	pwFile := writeFile(t, "pw", "correct horse battery staple\n")
	t.Setenv("MILVAULT_PASSWORD", "correct horse battery staple")
	init := e.mustRun(t, repoURL, "init", "--encrypt")
	if !strings.Contains(init.stdout, "encrypted") {
		t.Errorf("init --encrypt did not say the repository is encrypted: %s", init)
	}
	t.Setenv("MILVAULT_PASSWORD", "") // from here on, a host without the key
	sum := e.backup(t, repoURL, d.Collection, "--database", d.Database, "--compression", "none", "--chunk-size", "256KiB")
	if r := e.milvault(t, repoURL, "backup", "-c", d.Collection, "--database", d.Database, "--name", "named"); r.code != 9 {
		t.Errorf("backup --name without key: %s; want exit 9 (names are encrypted)", r)
	}
	list := e.mustRun(t, repoURL, "list")
	if !strings.Contains(list.stdout, sum.ID) || !strings.Contains(list.stdout, "(encrypted)") || !strings.Contains(list.stderr, "hidden") {
		t.Errorf("list without key should show the id and say the rest is hidden: %s", list)
	}
	e.mustRun(t, repoURL, "verify", sum.ID, "--mode", "checksum")
	scanRepository(t, repoURL, encNeedles(t, d), true)

	e.dropFixture(t, d)
	expectFailure(t, e.milvault(t, repoURL, "restore", sum.ID), 9, "encrypted", "--identity-file")
	e.expectAbsent(t, d, "restore without key")
	t.Setenv("MILVAULT_PASSWORD", "wrong passphrase")
	expectFailure(t, e.milvault(t, repoURL, "restore", sum.ID), 9, "none of the given keys")
	t.Setenv("MILVAULT_PASSWORD", "")
	e.expectAbsent(t, d, "restore with a wrong passphrase")

	restoreTampered(t, e, d, repoURL, sum.ID, "--password-file", pwFile)
	e.mustRun(t, repoURL, "--password-file", pwFile, "restore", sum.ID)
	e.compareRestored(t, d)
}

// dropFixture drops d's collection, remembering its dump for
// compareRestored.
func (e *env) dropFixture(t *testing.T, d *fixture.Dataset) {
	t.Helper()
	dumps[d.Collection] = e.dumpIn(t, d.Database, d.Collection)
	if err := e.client.DropCollection(testContext(t), d.Database, d.Collection); err != nil {
		t.Fatal(err)
	}
}

var dumps = map[string][]byte{}

func (e *env) compareRestored(t *testing.T, d *fixture.Dataset) {
	t.Helper()
	sameDump(t, "restored from the encrypted repository vs source", e.dumpIn(t, d.Database, d.Collection), dumps[d.Collection])
}

// dumpIn dumps collection coll of database db with
// scripts/dump_collection.py.
func (e *env) dumpIn(t *testing.T, db, coll string) []byte {
	t.Helper()
	py := filepath.Join(e.root, ".venv", "bin", "python")
	if _, err := os.Stat(py); err != nil {
		t.Skipf("no Python venv with pymilvus at %s (run scripts/milvus-env.sh install)", py)
	}
	out := filepath.Join(t.TempDir(), coll+".jsonl")
	cmd := exec.Command(py, filepath.Join(e.root, "scripts", "dump_collection.py"), e.addr, coll, "--db", db, out)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("dump %s.%s: %v\n%s", db, coll, err, msg)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// expectAbsent fails when d's collection exists.
func (e *env) expectAbsent(t *testing.T, d *fixture.Dataset, what string) {
	t.Helper()
	if ok, err := e.client.HasCollection(testContext(t), d.Database, d.Collection); err != nil || ok {
		t.Errorf("%s: collection %s.%s exists=%v (%v); nothing should have been created", what, d.Database, d.Collection, ok, err)
	}
}

// restoreTampered flips one byte of a stored data file and checks that a
// restore with the key fails as damaged before creating the collection,
// then puts the byte back.
func restoreTampered(t *testing.T, e *env, d *fixture.Dataset, repoURL, id string, key ...string) {
	t.Helper()
	ctx := testContext(t)
	s := openStore(t, repoURL)
	files, err := s.List(ctx, "data/"+id+"/")
	if err != nil || len(files) == 0 {
		t.Fatalf("data files of %s: %v %v", id, files, err)
	}
	name := files[len(files)/2].Name
	orig := readStored(t, s, name)
	bad := bytes.Clone(orig)
	bad[len(bad)/2] ^= 0x40
	putStored(t, s, name, bad)
	expectFailure(t, e.milvault(t, repoURL, append(key, "restore", id)...), 5, name)
	e.expectAbsent(t, d, "restore of a tampered backup")
	putStored(t, s, name, orig)
}

// encNeedles returns strings that must not appear in any stored object of
// an encrypted repository holding d: names, and the raw bytes of vectors.
func encNeedles(t *testing.T, d *fixture.Dataset) map[string][]byte {
	t.Helper()
	out := map[string][]byte{"collection name": []byte(d.Collection), "database name": []byte(d.Database)}
	for _, f := range d.Schema.GetFields() {
		if len(f.GetName()) >= 6 { // shorter ones turn up in random bytes by chance
			out["field name "+f.GetName()] = []byte(f.GetName())
		}
	}
	for _, row := range []int{0, 1234, 2999} {
		var b bytes.Buffer
		for _, x := range d.FloatVector(row) {
			_ = binenc.Write(&b, binenc.LittleEndian, math.Float32bits(x))
		}
		out[fmt.Sprintf("vector of row %d", row)] = b.Bytes()[:32]
	}
	return out
}

// scanRepository reads every stored object of the repository at loc and
// reports needles found in a name or a content when want is true (the
// encrypted case); when want is false it requires the first needle to be
// found, proving the scan can see what it looks for.
func scanRepository(t *testing.T, loc string, needles map[string][]byte, encrypted bool) {
	t.Helper()
	s := openStore(t, loc)
	files, err := s.List(testContext(t), "")
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for _, f := range files {
		data := readStored(t, s, f.Name)
		for what, n := range needles {
			if bytes.Contains([]byte(f.Name), n) || bytes.Contains(data, n) {
				found[what] = true
				if encrypted {
					t.Errorf("stored object %s reveals the %s", f.Name, what)
				}
			}
		}
	}
	t.Logf("scanned %d stored objects for %d needles: %d found", len(files), len(needles), len(found))
	if !encrypted && !found["collection name"] {
		t.Errorf("the control scan of an unencrypted repository did not find the collection name: the scan proves nothing")
	}
	if !encrypted && !found["vector of row 0"] {
		t.Errorf("the control scan of an unencrypted repository did not find raw vector bytes: the scan proves nothing")
	}
}

func openStore(t *testing.T, loc string) repo.Store {
	t.Helper()
	s, err := location.Open(testContext(t), loc)
	if err != nil {
		t.Fatalf("open %s: %v", loc, err)
	}
	return s
}

func readStored(t *testing.T, s repo.Store, name string) []byte {
	t.Helper()
	rc, err := s.Open(testContext(t), name)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func putStored(t *testing.T, s repo.Store, name string, data []byte) {
	t.Helper()
	if err := s.Put(testContext(t), name, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// newIdentity writes a new age identity file and returns its path and
// public recipient.
func newIdentity(t *testing.T) (string, string) {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	return writeFile(t, "identity", id.String()+"\n"), id.Recipient().String()
}

func (e *env) testEncryptedRecipients(t *testing.T) {
	d := e.encFixture(t, "encrc")
	t.Setenv("MILVAULT_PASSWORD", "")
	oldID, oldRcpt := newIdentity(t)
	newID, newRcpt := newIdentity(t)
	dir := t.TempDir()
	e.mustRun(t, dir, "init", "--encrypt", "--recipient", oldRcpt)
	sum := e.backup(t, dir, d.Collection, "--database", d.Database, "--compression", "none") // no key: write-only
	scanRepository(t, dir, encNeedles(t, d), true)
	plain := newRepo(t) // control: the same backup unencrypted shows what the scan looks for
	e.backup(t, plain, d.Collection, "--database", d.Database, "--compression", "none")
	scanRepository(t, plain, encNeedles(t, d), false)

	before := storedState(t, dir)
	time.Sleep(1100 * time.Millisecond) // a rewrite would show in the modification times
	e.mustRun(t, dir, "--identity-file", oldID, "key", "add", "--recipient", newRcpt)
	keys := listKeys(t, e, dir)
	for _, k := range keys {
		if k.Recipient == oldRcpt {
			e.mustRun(t, dir, "key", "remove", k.ID) // needs no key
		}
	}
	compareStoredState(t, before, storedState(t, dir))

	// Pruning by time needs no key: a second backup, then keep only the newest.
	second := e.backup(t, dir, d.Collection, "--database", d.Database)
	e.mustRun(t, dir, "prune", "--keep-last", "1", "--min-keep", "1")
	if list := e.mustRun(t, dir, "list"); strings.Contains(list.stdout, sum.ID) || !strings.Contains(list.stdout, second.ID) {
		t.Errorf("prune --keep-last 1 without key should delete %s and keep %s: %s", sum.ID, second.ID, list)
	}
	sum = second

	e.dropFixture(t, d)
	expectFailure(t, e.milvault(t, dir, "--identity-file", oldID, "restore", sum.ID), 9, "none of the given keys")
	e.expectAbsent(t, d, "restore with a removed key")

	copyDir := filepath.Join(t.TempDir(), "copy")
	if r := e.milvault(t, dir, "copy", sum.ID, "--to", plain); r.code != 2 || !strings.Contains(r.String(), "unencrypted") {
		t.Errorf("copy from an encrypted into an unencrypted repository: %s; want exit 2 explaining why", r)
	}
	e.mustRun(t, dir, "copy", sum.ID, "--to", copyDir, "--init") // no key: ciphertext as it is
	e.mustRun(t, copyDir, "--identity-file", newID, "restore", sum.ID)
	e.compareRestored(t, d)
}

// storedState is the content digest and modification time of every
// stored object but the key files.
func storedState(t *testing.T, loc string) map[string]string {
	t.Helper()
	s := openStore(t, loc)
	files, err := s.List(testContext(t), "")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, f := range files {
		if strings.HasPrefix(f.Name, "keys/") || strings.HasPrefix(f.Name, "locks/") {
			continue
		}
		sum := sha256.Sum256(readStored(t, s, f.Name))
		out[f.Name] = f.ModTime.UTC().Format(time.RFC3339Nano) + " " + string(sum[:8])
	}
	return out
}

func compareStoredState(t *testing.T, before, after map[string]string) {
	t.Helper()
	data := 0
	for name, st := range before {
		if strings.HasPrefix(name, "data/") {
			data++
		}
		if after[name] != st {
			t.Errorf("%s was rewritten by key changes", name)
		}
	}
	if data == 0 || len(after) != len(before) {
		t.Errorf("compared %d data objects; %d objects before, %d after", data, len(before), len(after))
	}
}

func listKeys(t *testing.T, e *env, loc string) []repo.KeyInfo {
	t.Helper()
	r := e.mustRun(t, loc, "--json", "key", "list")
	var keys []repo.KeyInfo
	if err := json.Unmarshal([]byte(r.stdout), &keys); err != nil {
		t.Fatalf("key list --json printed %q: %v", r.stdout, err)
	}
	return keys
}
