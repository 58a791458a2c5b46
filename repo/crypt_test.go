package repo_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/milvault/milvault/checksum"
	"github.com/milvault/milvault/errkind"
	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/progress"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/faulty"
	"github.com/milvault/milvault/repo/mem"
)

const secretName = "SecretCollectionName"

var secretPayload = []byte("row payload of " + secretName + " with vector bytes \x01\x02\x03\x04")

// newEncrypted creates an encrypted repository with a passphrase and one
// recipient key, and returns it unlocked with the recipient's identity.
func newEncrypted(t *testing.T) (*repo.Repository, *mem.Store, *age.X25519Identity) {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	s := mem.New()
	spec := repo.KeySpec{Passphrase: "correct horse", Recipients: []string{id.Recipient().String()}, ScryptWorkFactor: 10}
	r, err := repo.InitEncrypted(context.Background(), s, spec)
	if err != nil {
		t.Fatal(err)
	}
	return r, s, id
}

// writeSecretBackup commits a backup of collection secretName whose one
// data file holds secretPayload, with a proof and a lock file.
func writeSecretBackup(t *testing.T, r *repo.Repository, id string) *manifest.Manifest {
	t.Helper()
	ctx := context.Background()
	fw, err := r.CreateFile(ctx, manifest.DataPrefix(id)+"default/"+secretName+"/_default/part-00000.parquet", checksum.SHA256, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fw.Write(secretPayload); err != nil {
		t.Fatal(err)
	}
	f, err := fw.Commit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	f.Rows = 2
	m := &manifest.Manifest{FormatVersion: manifest.FormatVersion, ID: id, Name: "nightly-" + secretName, CreatedAt: time.Now().UTC(),
		Collections: []manifest.Collection{{Database: "db_" + secretName, Name: secretName, Schema: []byte(`{}`), Rows: 2,
			Partitions: []manifest.Partition{{Name: "part_" + secretName, Rows: 2, Files: []manifest.File{f}}}}}}
	if err := r.Commit(ctx, m); err != nil {
		t.Fatal(err)
	}
	if err := r.RecordProof(ctx, repo.Proof{BackupID: id, Kind: repo.ProofChecksum, OK: true, Summary: "checked " + secretName}); err != nil {
		t.Fatal(err)
	}
	return m
}

// reopenLocked opens the repository in s afresh, without any key.
func reopenLocked(t *testing.T, s repo.Store) *repo.Repository {
	t.Helper()
	r, err := repo.Open(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestEncryptedRepositoryHidesNamesAndContent(t *testing.T) {
	ctx := context.Background()
	r, s, _ := newEncrypted(t)
	writeSecretBackup(t, r, "b1")
	l, _, err := r.Lock(ctx, repo.LockOptions{Operation: "test"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Unlock()
	needles := [][]byte{[]byte(secretName), []byte("\x01\x02\x03\x04")}
	if host := hostname(); len(host) >= 8 { // shorter ones turn up in base64 by chance
		needles = append(needles, []byte(`"`+host+`"`))
	}
	files, _ := s.List(ctx, "")
	for _, fi := range files {
		data := readAll(t, s, fi.Name)
		for _, needle := range needles {
			if bytes.Contains([]byte(fi.Name), needle) || bytes.Contains(data, needle) {
				t.Errorf("stored file %s reveals %q", fi.Name, needle)
			}
		}
	}
	if len(files) < 5 { // config, 2 keys, data, manifest, proof, lock
		t.Fatalf("only %d stored files: %v", len(files), files)
	}
}

func readAll(t *testing.T, s repo.Store, name string) []byte {
	t.Helper()
	rc, err := s.Open(context.Background(), name)
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

func TestEncryptedRepositoryWithoutKey(t *testing.T) {
	ctx := context.Background()
	r, s, id := newEncrypted(t)
	want := writeSecretBackup(t, r, "b1")
	locked := reopenLocked(t, s)
	if !locked.Encrypted() || locked.Unlocked() {
		t.Fatalf("reopened: Encrypted=%v Unlocked=%v, want true false", locked.Encrypted(), locked.Unlocked())
	}
	list, problems, err := locked.List(ctx)
	if err != nil || len(problems) > 0 || len(list) != 1 {
		t.Fatalf("List without key = %v, %v, %v", list, problems, err)
	}
	m := list[0]
	if !m.Sealed || m.ID != "b1" || m.Name != "" || len(m.Collections) != 0 || m.TotalBytes() != want.TotalBytes() || m.CreatedAt.IsZero() {
		t.Fatalf("sealed manifest = %+v, want id, time and size only (size %d)", m, want.TotalBytes())
	}
	if err := locked.CheckFiles(ctx, m, m.Files(), progress.Nop); err != nil {
		t.Fatalf("checksum verification without key: %v", err)
	}
	var buf bytes.Buffer
	err = locked.ReadFile(ctx, m.Files()[0], &buf)
	if errkind.Of(err) != errkind.Key || errkind.Of(err).ExitCode() != 9 {
		t.Fatalf("reading content without key: %v (kind %v), want a key error", err, errkind.Of(err))
	}
	if got, err := locked.Latest(ctx, ""); err != nil || got.ID != "b1" {
		t.Fatalf("Latest without key = %v, %v", got, err)
	}
	if _, err := locked.Latest(ctx, secretName); errkind.Of(err) != errkind.Key {
		t.Fatalf("Latest of a collection without key = %v, want a key error", err)
	}
	if err := locked.CheckNameFree(ctx, "x"); errkind.Of(err) != errkind.Key {
		t.Fatalf("CheckNameFree without key = %v, want a key error", err)
	}
	proofs, err := locked.Proofs(ctx)
	if err != nil || len(proofs["b1"]) != 1 || !proofs["b1"][0].OK || proofs["b1"][0].Summary != "" {
		t.Fatalf("proofs without key = %+v, %v; want outcome without summary", proofs, err)
	}
	wrong, _ := age.GenerateX25519Identity()
	err = locked.Unlock(ctx, repo.Credentials{Identities: []age.Identity{wrong}})
	var ke *repo.KeyError
	if !errors.As(err, &ke) || !ke.Wrong {
		t.Fatalf("Unlock with a foreign identity = %v, want a wrong-key error", err)
	}
	if err := locked.Unlock(ctx, repo.Credentials{Passphrase: "wrong"}); !errors.As(err, &ke) {
		t.Fatalf("Unlock with a wrong passphrase = %v", err)
	}
	for _, c := range []repo.Credentials{{Identities: []age.Identity{id}}, {Passphrase: "correct horse"}} {
		r2 := reopenLocked(t, s)
		if err := r2.Unlock(ctx, c); err != nil {
			t.Fatalf("Unlock: %v", err)
		}
		got, err := r2.Find(ctx, "nightly-"+secretName)
		if err != nil || got.Sealed || got.Collections[0].Name != secretName {
			t.Fatalf("Find by name with key = %+v, %v", got, err)
		}
		buf.Reset()
		if err := r2.ReadFile(ctx, got.Files()[0], &buf); err != nil || !bytes.Equal(buf.Bytes(), secretPayload) {
			t.Fatalf("ReadFile with key = %q, %v", buf.Bytes(), err)
		}
	}
}

func TestEncryptedTamperedFileFails(t *testing.T) {
	ctx := context.Background()
	r, s, _ := newEncrypted(t)
	m := writeSecretBackup(t, r, "b1")
	f := m.Files()[0]
	data := readAll(t, s, f.Path)
	data[len(data)-5] ^= 0x01
	if err := s.Put(ctx, f.Path, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	var de *repo.DamagedError
	if err := reopenLocked(t, s).CheckFiles(ctx, m, m.Files(), progress.Nop); !errors.As(err, &de) {
		t.Fatalf("CheckFiles of a flipped byte without key = %v, want damaged", err)
	}
	err := r.ReadFile(ctx, f, io.Discard)
	var ce *repo.ContentError
	if !errors.As(err, &ce) || errkind.Of(err) != errkind.Damaged {
		t.Fatalf("ReadFile of a flipped byte = %v, want a content error", err)
	}
	// A manifest that was changed does not decrypt either.
	mdata := readAll(t, s, manifest.Path("b1"))
	i := bytes.Index(mdata, []byte(`"sealed": "`)) + 20
	mdata[i] ^= 0x02
	_ = s.Put(ctx, manifest.Path("b1"), bytes.NewReader(mdata))
	if _, err := r.Find(ctx, "b1"); err == nil {
		t.Fatal("Find of a changed manifest succeeded")
	}
}

func TestKeyChangesRewriteOnlyKeyFiles(t *testing.T) {
	ctx := context.Background()
	r, s, oldID := newEncrypted(t)
	m := writeSecretBackup(t, r, "b1")
	before := snapshot(t, s)
	newID, _ := age.GenerateX25519Identity()
	added, err := r.AddKeys(ctx, repo.KeySpec{Recipients: []string{newID.Recipient().String()}})
	if err != nil {
		t.Fatal(err)
	}
	keys, _ := r.Keys(ctx)
	for _, k := range keys {
		if k.Recipient == oldID.Recipient().String() {
			if err := reopenLocked(t, s).RemoveKey(ctx, k.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := r.ChangePassphrase(ctx, "battery staple", 10); err != nil {
		t.Fatal(err)
	}
	after := snapshot(t, s)
	for name, data := range before {
		if strings.HasPrefix(name, "keys/") {
			continue
		}
		if !bytes.Equal(after[name], data) {
			t.Errorf("%s changed by key management", name)
		}
	}
	var ke *repo.KeyError
	if err := reopenLocked(t, s).Unlock(ctx, repo.Credentials{Identities: []age.Identity{oldID}}); !errors.As(err, &ke) {
		t.Fatalf("removed identity still unlocks: %v", err)
	}
	if err := reopenLocked(t, s).Unlock(ctx, repo.Credentials{Passphrase: "correct horse"}); !errors.As(err, &ke) {
		t.Fatalf("old passphrase still unlocks: %v", err)
	}
	for _, c := range []repo.Credentials{{Identities: []age.Identity{newID}}, {Passphrase: "battery staple"}} {
		r2 := reopenLocked(t, s)
		if err := r2.Unlock(ctx, c); err != nil {
			t.Fatalf("new key %s: %v", added[0].ID, err)
		}
		if err := r2.ReadFile(ctx, m.Files()[0], io.Discard); err != nil {
			t.Fatal(err)
		}
	}
	keys, _ = r.Keys(ctx)
	for _, k := range keys[:len(keys)-1] {
		_ = r.RemoveKey(ctx, k.ID)
	}
	if err := r.RemoveKey(ctx, keys[len(keys)-1].ID); errkind.Of(err) != errkind.Conflict {
		t.Fatalf("removing the last key = %v, want a conflict", err)
	}
}

func snapshot(t *testing.T, s repo.Store) map[string][]byte {
	t.Helper()
	files, err := s.List(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, f := range files {
		out[f.Name] = readAll(t, s, f.Name)
	}
	return out
}

func TestEncryptedCopyMovesCiphertext(t *testing.T) {
	ctx := context.Background()
	r, s, id := newEncrypted(t)
	writeSecretBackup(t, r, "b1")
	src := reopenLocked(t, s) // no key
	plain, _ := newRepo(t)
	if err := repo.CheckCopy(src, plain); errkind.Of(err) != errkind.Usage {
		t.Fatalf("encrypted to plain copy = %v, want refused", err)
	}
	if err := repo.CheckCopy(plain, src); errkind.Of(err) != errkind.Usage {
		t.Fatalf("plain to encrypted copy = %v, want refused", err)
	}
	other, _, _ := newEncrypted(t)
	if err := repo.CheckCopy(src, other); errkind.Of(err) != errkind.Usage {
		t.Fatalf("copy between different keys = %v, want refused", err)
	}
	ds := mem.New()
	dst, err := repo.InitLike(ctx, ds, src)
	if err != nil {
		t.Fatal(err)
	}
	m, err := src.Find(ctx, "b1")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range m.Files() {
		if err := dst.CopyFile(ctx, src, f, "", nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := dst.CommitCopy(ctx, src, m); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{manifest.Path("b1"), m.Files()[0].Path} {
		if !bytes.Equal(readAll(t, s, name), readAll(t, ds, name)) {
			t.Errorf("%s differs between source and copy", name)
		}
	}
	copied := reopenLocked(t, ds)
	if err := copied.Unlock(ctx, repo.Credentials{Identities: []age.Identity{id}}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := copied.ReadFile(ctx, m.Files()[0], &buf); err != nil || !bytes.Equal(buf.Bytes(), secretPayload) {
		t.Fatalf("copied file = %q, %v", buf.Bytes(), err)
	}
}

func TestPlainRepositoryStaysVersion1(t *testing.T) {
	r, s := newRepo(t)
	if r.Config().Version != 1 || r.Encrypted() || !r.Unlocked() {
		t.Fatalf("plain repository: %+v", r.Config())
	}
	if !strings.Contains(string(readAll(t, s, "config.json")), `"version": 1`) {
		t.Fatal("plain config.json is not version 1")
	}
}

// TestRemoveIfEmptyEncrypted: undoing an encrypted init (backup --init
// that failed) removes the key files with the descriptor.
func TestRemoveIfEmptyEncrypted(t *testing.T) {
	ctx := context.Background()
	r, s, _ := newEncrypted(t)
	removed, err := r.RemoveIfEmpty(ctx)
	if err != nil || !removed {
		t.Fatalf("RemoveIfEmpty = %v, %v", removed, err)
	}
	if files, _ := s.List(ctx, ""); len(files) != 0 {
		t.Fatalf("left behind: %v", files)
	}
	r, _, _ = newEncrypted(t)
	writeSecretBackup(t, r, "b1")
	if removed, err := r.RemoveIfEmpty(ctx); err != nil || removed {
		t.Fatalf("RemoveIfEmpty of a repository with a backup = %v, %v", removed, err)
	}
}

// TestEncryptedReadErrorsKeepTheirKind: a store that fails half-way
// through a read reports its own (transient) error, not damage, while a
// flipped byte on the way is damage.
func TestEncryptedReadErrorsKeepTheirKind(t *testing.T) {
	ctx := context.Background()
	r, s, id := newEncrypted(t)
	payload := bytes.Repeat(secretPayload, 20000) // several age chunks
	fw, err := r.CreateFile(ctx, "data/b1/x", checksum.SHA256, "")
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(payload)
	f, err := fw.Commit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		kind    faulty.Kind
		damaged bool
	}{{faulty.Interrupt, false}, {faulty.Corrupt, true}} {
		fr, err := repo.Open(ctx, faulty.Wrap(s, 1, faulty.Rule{Ops: []faulty.Op{faulty.Open}, Prefix: "data/", Probability: 1, Kind: tc.kind}))
		if err != nil {
			t.Fatal(err)
		}
		if err := fr.Unlock(ctx, repo.Credentials{Identities: []age.Identity{id}}); err != nil {
			t.Fatal(err)
		}
		err = fr.ReadFile(ctx, f, io.Discard)
		var ce *repo.ContentError
		if err == nil || errors.As(err, &ce) != tc.damaged || (!tc.damaged && !faulty.IsTransient(err)) {
			t.Errorf("fault %v: ReadFile = %v; want damaged=%v", tc.kind, err, tc.damaged)
		}
	}
}

// TestEncryptedMetaFiles: audit entries written through WriteMetaFile are
// encrypted like every other file and need the key to be read.
func TestEncryptedMetaFiles(t *testing.T) {
	ctx := context.Background()
	r, s, _ := newEncrypted(t)
	entry := []byte(`{"collections": ["db.` + secretName + `"]}`)
	if err := r.WriteMetaFile(ctx, "audit/e1.json", entry); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(readAll(t, s, "audit/e1.json"), []byte(secretName)) {
		t.Fatal("the stored audit entry shows the collection name")
	}
	if _, err := reopenLocked(t, s).ReadMetaFile(ctx, "audit/e1.json"); errkind.Of(err) != errkind.Key {
		t.Fatalf("ReadMetaFile without key = %v, want a key error", err)
	}
	got, err := r.ReadMetaFile(ctx, "audit/e1.json")
	if err != nil || !bytes.Equal(bytes.TrimSpace(got), entry) {
		t.Fatalf("ReadMetaFile with key = %q, %v", got, err)
	}
}

// TestEncryptedJournal: a resume journal names collections, so in an
// encrypted repository it is stored encrypted and read back whole.
func TestEncryptedJournal(t *testing.T) {
	ctx := context.Background()
	r, s, _ := newEncrypted(t)
	id := "20261130T000000Z-0a0b0c"
	want := []byte(`{"collection":"` + secretName + `"}`)
	if err := r.WriteJournal(ctx, id, want); err != nil {
		t.Fatal(err)
	}
	stored := readAll(t, s, manifest.DataPrefix(id)+"journal.json")
	if bytes.Contains(stored, []byte(secretName)) {
		t.Fatalf("the stored journal holds %q in plain text", secretName)
	}
	got, err := r.ReadJournal(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("journal read back as %q, want %q", got, want)
	}
	if _, err := reopenLocked(t, s).ReadJournal(ctx, id); errkind.Of(err) != errkind.Key {
		t.Fatalf("journal read without the key: got %v, want a key error", err)
	}
}
