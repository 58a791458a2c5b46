package doctor

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/golden")

// TestGolden renders the report of each fixture and compares it with
// testdata/golden/<fixture>.txt (go test -update rewrites them).
func TestGolden(t *testing.T) {
	cases := map[string][]string{
		"seed000":         {"seed000-deployment.yaml"},
		"helm-good":       {"helm-values-good.yaml"},
		"helm-bad":        {"helm-values-bad.yaml"},
		"compose":         {"docker-compose.yaml"},
		"compose-embed":   {"docker-compose-embed.yaml"},
		"milvus-local":    {"milvus-local.yaml"},
		"backup-mismatch": {"milvus-minio.yaml", "milvus-backup.yaml"},
		"kubectl-list":    {"kubectl-list.yaml"},
	}
	for name, files := range cases {
		t.Run(name, func(t *testing.T) {
			in := parseFixtures(t, files...)
			var buf bytes.Buffer
			if err := WriteText(&buf, Diagnose(Params{Inputs: in})); err != nil {
				t.Fatal(err)
			}
			compareGolden(t, filepath.Join("testdata", "golden", name+".txt"), buf.Bytes())
		})
	}
}

func parseFixtures(t *testing.T, files ...string) *Inputs {
	t.Helper()
	paths := make([]string, len(files))
	for i, f := range files {
		paths[i] = filepath.Join("testdata", f)
	}
	in, err := ParseFiles(paths)
	if err != nil {
		t.Fatalf("ParseFiles(%v): %v", files, err)
	}
	return in
}

func compareGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test -update): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("report differs from %s (go test -update to accept):\n--- got\n%s\n--- want\n%s", path, got, strings.TrimSpace(string(want)))
	}
}
