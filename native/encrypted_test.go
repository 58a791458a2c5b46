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

// TestNativeRefusesEncryptedRepository: segment files are stored outside
// the repository's encryption, so a native backup into an encrypted
// repository is refused before anything is written, and a plain one is not.
func TestNativeRefusesEncryptedRepository(t *testing.T) {
	ctx := context.Background()
	s := mem.New()
	enc, err := repo.InitEncrypted(ctx, s, repo.KeySpec{Passphrase: "correct horse", ScryptWorkFactor: 10})
	if err != nil {
		t.Fatal(err)
	}
	before, err := s.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = Backup(ctx, Deps{Repo: enc, Storage: &Storage{}}, backup.Params{Collections: []string{"c"}})
	if err == nil || errkind.Of(err) != errkind.Usage || !strings.Contains(err.Error(), "--mode logical") {
		t.Fatalf("native backup into an encrypted repository: got %v, want a usage error advising --mode logical", err)
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
