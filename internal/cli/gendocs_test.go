package cli

import (
	"flag"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/config.md")

// TestConfigDocCurrent fails when docs/config.md is not what `milvault
// gendocs config` prints for the current flags (fix: make docs, or go test
// ./internal/cli -run TestConfigDocCurrent -update).
func TestConfigDocCurrent(t *testing.T) {
	const path = "../../docs/config.md"
	var out strings.Builder
	if err := writeConfigDoc(&out, NewRootCommand(strings.NewReader(""), &out, &out)); err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(path, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != out.String() {
		t.Fatalf("docs/config.md is stale: run make docs (go run ./cmd/milvault gendocs config > docs/config.md)")
	}
	for _, want := range []string{"`MILVAULT_CHUNK_SIZE`", "`MILVAULT_BACKUP_CHUNK_SIZE`", "`--lock-wait`", "`--keep-within`"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("docs/config.md lacks %s", want)
		}
	}
}
