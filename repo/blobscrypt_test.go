package repo_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/mem"
)

func encryptedRepo(t *testing.T, pass string) (*repo.Repository, *mem.Store) {
	t.Helper()
	s := mem.New()
	r, err := repo.InitEncrypted(context.Background(), s, repo.KeySpec{Passphrase: pass, ScryptWorkFactor: 10})
	if err != nil {
		t.Fatal(err)
	}
	return r, s
}

// TestEncryptedBlobs: in an encrypted repository a segment file is stored
// encrypted under a keyed name (not its plaintext digest, and not the name
// another repository gives the same bytes), its checksum is that of the
// stored ciphertext (checked without the key), the same content is
// stored once, and it reads back with the key.
func TestEncryptedBlobs(t *testing.T) {
	ctx := context.Background()
	r, s := encryptedRepo(t, "correct horse")
	content := "segment bytes of an encrypted repository"
	plainSum := sha256.Sum256([]byte(content))
	f, stored := putBlob(t, r, content)
	if !stored || !strings.HasPrefix(f.Path, "blobs/") || strings.Contains(f.Path, hex.EncodeToString(plainSum[:])) {
		t.Fatalf("PutBlob = %+v stored %v; want a new file whose name is not the plaintext digest", f, stored)
	}
	rc, err := s.Open(ctx, f.Path)
	if err != nil {
		t.Fatal(err)
	}
	var raw bytes.Buffer
	_, _ = raw.ReadFrom(rc)
	rc.Close()
	storedSum := sha256.Sum256(raw.Bytes())
	if strings.Contains(raw.String(), content) || f.Checksum != "sha256:"+hex.EncodeToString(storedSum[:]) || f.Size != int64(raw.Len()) {
		t.Fatalf("stored %d bytes (plaintext inside: %v), entry %+v; want ciphertext described by its own digest", raw.Len(), strings.Contains(raw.String(), content), f)
	}
	again, stored := putBlob(t, r, content)
	if stored || again != f {
		t.Fatalf("second PutBlob = %+v stored %v; want %+v, not stored again", again, stored, f)
	}
	var back bytes.Buffer
	if err := r.ReadFile(ctx, f, &back); err != nil || back.String() != content {
		t.Fatalf("ReadFile = %q, %v", back.String(), err)
	}
	keyless, err := repo.Open(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if n, digest, err := keyless.HashFile(ctx, f, nil); err != nil || n != f.Size || digest != f.Checksum {
		t.Fatalf("keyless checksum of the stored file = %d %s %v; want %d %s", n, digest, err, f.Size, f.Checksum)
	}
	var ke *repo.KeyError
	if _, err := keyless.PutBlob(ctx, strings.NewReader(content), t.TempDir()); !errors.As(err, &ke) {
		t.Fatalf("PutBlob without the key = %v; want a *KeyError", err)
	}
	other, _ := encryptedRepo(t, "correct horse")
	if g, _ := putBlob(t, other, content); g.Path == f.Path {
		t.Fatalf("two repositories name the same content alike (%s): the name is not keyed", g.Path)
	}
	unlocked, _ := repo.Open(ctx, s)
	if err := unlocked.Unlock(ctx, repo.Credentials{Passphrase: "correct horse"}); err != nil {
		t.Fatal(err)
	}
	if g, _ := putBlob(t, unlocked, content); g != f {
		t.Fatalf("after reopening, the same content is %+v; want %+v", g, f)
	}
}

// TestEncryptedSourceHints: a source hint in an encrypted repository names
// neither the outside object nor the content's digest, and still gives
// back the stored file's entry.
func TestEncryptedSourceHints(t *testing.T) {
	ctx := context.Background()
	r, s := encryptedRepo(t, "correct horse")
	content := "hinted segment"
	f, _ := putBlob(t, r, content)
	if err := r.RememberSource(ctx, "insert_log/1/2/3/100/7", f); err != nil {
		t.Fatal(err)
	}
	hints, err := s.List(ctx, "sources/")
	if err != nil || len(hints) != 1 {
		t.Fatalf("hints = %v, %v", hints, err)
	}
	plainSum := sha256.Sum256([]byte(content))
	srcSum := sha256.Sum256([]byte("insert_log/1/2/3/100/7"))
	if n := hints[0].Name; strings.Contains(n, hex.EncodeToString(plainSum[:])) || strings.Contains(n, hex.EncodeToString(srcSum[:])) {
		t.Fatalf("hint %s reveals a plain digest", n)
	}
	known, err := r.KnownSources(ctx)
	if err != nil || known[r.SourceKey("insert_log/1/2/3/100/7")] != f {
		t.Fatalf("KnownSources = %+v, %v; want %+v", known, err, f)
	}
}

// TestKeylessDeleteKeepsSegmentFiles: a host without the key reads which
// segment files the remaining backups reference from their manifests'
// public parts, so deleting a backup there removes only its own files.
func TestKeylessDeleteKeepsSegmentFiles(t *testing.T) {
	ctx := context.Background()
	r, s := encryptedRepo(t, "correct horse")
	kept, _ := putBlob(t, r, "referenced by b1")
	gone, _ := putBlob(t, r, "referenced by b2 only")
	for id, f := range map[string]manifest.File{"b1": kept, "b2": gone} {
		if err := r.Commit(ctx, nativeManifest(id, f)); err != nil {
			t.Fatal(err)
		}
	}
	keyless, err := repo.Open(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if err := keyless.Delete(ctx, nil, "b2"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Stat(ctx, kept.Path); err != nil {
		t.Fatalf("a keyless delete removed a segment file b1 references: %v", err)
	}
	if _, err := s.Stat(ctx, gone.Path); err == nil {
		t.Fatal("a keyless delete kept the segment file only the deleted backup referenced")
	}
}
