package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/milvault/milvault/internal/fixture"
)

// TestSettingsFromEnvAndFile backs up against the real servers with the
// chunk size from MILVAULT_CHUNK_SIZE, then from the YAML config file, and
// with durations written in days (--lock-wait 1d), and checks what the
// manifests recorded.
func TestSettingsFromEnvAndFile(t *testing.T) {
	for _, tg := range targets(t) {
		t.Run(tg.name, func(t *testing.T) {
			e := newEnv(t, tg.addr)
			name := uniqueName("settings")
			e.createFixture(t, fixture.Options{Name: name, Rows: 3000, Dim: 32, Seed: 21})
			repo := newRepo(t)

			t.Setenv("MILVAULT_CHUNK_SIZE", "64KiB")
			fromEnv := e.backup(t, repo, name, "--lock-wait", "1d")
			if got := chunkBytes(t, e, repo, fromEnv.ID); got != 64<<10 || fromEnv.Files < 2 {
				t.Errorf("MILVAULT_CHUNK_SIZE=64KiB: chunk_bytes %d in %d files, want 65536 in several", got, fromEnv.Files)
			}
			t.Setenv("MILVAULT_CHUNK_SIZE", "")

			cfg := filepath.Join(t.TempDir(), "milvault.yaml")
			if err := os.WriteFile(cfg, []byte("lock-wait: 2w\nbackup:\n  chunk-size: 128KiB\n  compression: none\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			fromFile := e.backup(t, repo, name, "--config", cfg)
			if got := chunkBytes(t, e, repo, fromFile.ID); got != 128<<10 {
				t.Errorf("chunk-size: 128KiB in the config file: chunk_bytes %d, want 131072", got)
			}
		})
	}
}

func chunkBytes(t *testing.T, e *env, repo, id string) int64 {
	t.Helper()
	r := e.mustRun(t, repo, "--json", "show", id)
	var m struct {
		Options struct {
			ChunkBytes int64 `json:"chunk_bytes"`
		} `json:"options"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &m); err != nil {
		t.Fatalf("show --json: %v", err)
	}
	return m.Options.ChunkBytes
}
