package service

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/local"
)

// TestEncryptedRepositoryKeys: a repository's identity_file unlocks it for
// the service's jobs; without it the repository opens write-only; a
// missing identity file is a configuration error naming the key.
func TestEncryptedRepositoryKeys(t *testing.T) {
	t.Setenv("TEST_MILVAULT_TOKEN", "root:Milvus")
	dir := t.TempDir()
	id, _ := age.GenerateX25519Identity()
	idFile := filepath.Join(dir, "id.key")
	os.WriteFile(idFile, []byte(id.String()+"\n"), 0o600)
	repoDir := filepath.Join(dir, "repo")
	os.MkdirAll(repoDir, 0o700)
	st, err := local.New(repoDir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := repo.InitEncrypted(context.Background(), st, repo.KeySpec{Recipients: []string{id.Recipient().String()}}); err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(goodConfig, "    url: /mnt/offsite", "    url: "+repoDir+"\n    identity_file: "+idFile, 1)
	text = strings.Replace(text, "state_dir: /tmp/milvault-state", "state_dir: "+filepath.Join(dir, "state"), 1)
	for _, withKey := range []bool{true, false} {
		cfgText := text
		if !withKey {
			cfgText = strings.Replace(text, "\n    identity_file: "+idFile, "", 1)
		}
		cfg, err := ParseConfig("serve.yaml", []byte(cfgText))
		if err != nil {
			t.Fatal(err)
		}
		s := &Service{cfg: cfg}
		r, err := s.openRepo(context.Background(), "offsite")
		if err != nil {
			t.Fatal(err)
		}
		if !r.Encrypted() || r.Unlocked() != withKey {
			t.Errorf("with key %v: Encrypted=%v Unlocked=%v", withKey, r.Encrypted(), r.Unlocked())
		}
	}
	bad := strings.Replace(text, idFile, filepath.Join(dir, "missing.key"), 1)
	_, err = ParseConfig("serve.yaml", []byte(bad))
	var ce *ConfigError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "identity_file") {
		t.Fatalf("missing identity file: %v", err)
	}
}
