package native

import (
	"context"
	"strings"
	"testing"

	"github.com/milvault/milvault/backup"
	"github.com/milvault/milvault/errkind"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/mem"
)

// TestNativeEncryptedNeedsKey: a native backup into an encrypted
// repository opened without its key (a write-only host) is refused before
// anything is written, advising the key or --mode logical; with the key,
// and in a plain repository, it is allowed.
func TestNativeEncryptedNeedsKey(t *testing.T) {
	ctx := context.Background()
	s := mem.New()
	enc, err := repo.InitEncrypted(ctx, s, repo.KeySpec{Passphrase: "correct horse", ScryptWorkFactor: 10})
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckRepository(enc); err != nil {
		t.Fatalf("encrypted repository with its key refused: %v", err)
	}
	keyless, err := repo.Open(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	before, err := s.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = Backup(ctx, Deps{Repo: keyless, Storage: &Storage{}}, backup.Params{Collections: []string{"c"}})
	if err == nil || errkind.Of(err) != errkind.Key || !strings.Contains(err.Error(), "--mode logical") {
		t.Fatalf("native backup without the key: got %v, want a key error advising the key or --mode logical", err)
	}
	after, err := s.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) {
		t.Fatalf("the refused backup wrote files: %d before, %d after", len(before), len(after))
	}
	plain, err := repo.Init(ctx, mem.New())
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckRepository(plain); err != nil {
		t.Fatalf("plain repository refused: %v", err)
	}
}
