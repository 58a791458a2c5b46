package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/milvault/milvault/internal/testenv"
	"github.com/milvault/milvault/milvus"
)

// TestFailedBackupInitLeavesNothing runs `backup --init` of a collection
// that does not exist against a real server: the repository it created for
// the backup is removed again, folder and all; into a folder that existed
// it leaves the folder empty. A successful `backup --init` keeps its
// repository.
func TestFailedBackupInitLeavesNothing(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, tg testenv.Target, c *milvus.Client) {
		run := func(dir string, args ...string) (int, string) {
			var out, errOut strings.Builder
			all := append([]string{"--repo", dir, "--milvus", tg.Address, "-q", "backup", "--init"}, args...)
			return Execute(context.Background(), all, strings.NewReader(""), &out, &errOut), errOut.String()
		}
		newDir := filepath.Join(t.TempDir(), "repo")
		if code, msg := run(newDir, "-c", "no_such_collection_here"); code == 0 {
			t.Fatalf("backup of a missing collection succeeded: %s", msg)
		}
		if _, err := os.Stat(newDir); !os.IsNotExist(err) {
			t.Errorf("failed backup --init left %s behind (%v): %v", newDir, err, filesUnder(t, newDir))
		}
		existing := t.TempDir()
		if code, msg := run(existing, "-c", "no_such_collection_here"); code == 0 {
			t.Fatalf("backup of a missing collection succeeded: %s", msg)
		}
		if files := filesUnder(t, existing); len(files) != 0 {
			t.Errorf("failed backup --init into an existing folder left %v", files)
		}
		name := testenv.Collection(t, c, "cli_init", 100, 8)
		if code, msg := run(newDir, "-c", name); code != 0 {
			t.Fatalf("backup --init of %s: exit %d: %s", name, code, msg)
		}
		if _, err := os.Stat(filepath.Join(newDir, "config.json")); err != nil {
			t.Errorf("successful backup --init: %v", err)
		}
	})
}
