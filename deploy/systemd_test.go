package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSystemdUnit checks the unit's commands and lets systemd-analyze
// verify it (any complaint fails), with the binary's path pointed at an
// existing program since no milvault is installed here.
func TestSystemdUnit(t *testing.T) {
	data, err := os.ReadFile("systemd/milvault.service")
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	for _, want := range []string{"ExecStart=/usr/local/bin/milvault serve --config /etc/milvault/serve.yaml",
		"--check-config", "ExecReload=/bin/kill -HUP $MAINPID", "StateDirectory=milvault", "DynamicUser=yes", "NoNewPrivileges=yes"} {
		if !strings.Contains(text, want) {
			t.Errorf("the unit lacks %q", want)
		}
	}
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("no systemd-analyze on PATH: the unit is not verified by systemd here")
	}
	path := filepath.Join(t.TempDir(), "milvault.service")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(text, "/usr/local/bin/milvault", "/bin/true")), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", path).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}
