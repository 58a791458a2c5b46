package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/milvault/milvault/errkind"
)

// TestGuardAndTrashCommands covers what needs no Milvus: bad policies are
// usage errors before anything is opened, an empty trash lists as such,
// restoring a name not in the trash is "not found" and says what to do,
// and purge asks for confirmation.
func TestGuardAndTrashCommands(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "repo")
	if _, _, err := run(t, nil, "--repo", dir, "init"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args    []string
		ok      bool
		kind    errkind.Kind // when not ok
		contain string
	}{
		{[]string{"guard", "--collection-policy", "shred"}, false, errkind.Usage, "want trash, backup, refuse or allow"},
		{[]string{"guard", "--partition-policy", "trash"}, false, errkind.Usage, "want refuse, backup or allow"},
		{[]string{"guard", "--database-policy", "trash"}, false, errkind.Usage, "want refuse, backup or allow"},
		{[]string{"guard", "--listen-tls-cert", "cert.pem"}, false, errkind.Usage, "--listen-tls-key go together"},
		{[]string{"guard", "--listen-tls-client-ca", "ca.pem"}, false, errkind.Usage, "--listen-tls-key go together"},
		{[]string{"guard", "--listen-tls-cert", "nope.pem", "--listen-tls-key", "nope.key"}, false, errkind.Usage, "load the guard's certificate"},
		{[]string{"guard", "--max-delete-share", "2"}, false, errkind.Usage, "below 1"},
		{[]string{"--repo", dir, "trash", "list"}, true, 0, "the trash is empty"},
		{[]string{"--repo", dir, "--milvus", "127.0.0.1:1", "trash", "restore", "products"}, false, errkind.Unreachable, "cannot reach Milvus"},
		{[]string{"--repo", dir, "trash", "purge"}, false, errkind.Conflict, "--yes"},
		{[]string{"--repo", dir, "trash", "purge", "--older-than", "soon"}, false, errkind.Usage, "give an age"},
	}
	for _, tt := range tests {
		out, _, err := run(t, map[string]string{"MILVAULT_REPO": ""}, tt.args...)
		if tt.ok && err != nil || !tt.ok && ExitCode(err) != tt.kind.ExitCode() {
			t.Errorf("milvault %v: err %v (exit %d), want ok %v or exit %d", tt.args, err, ExitCode(err), tt.ok, tt.kind.ExitCode())
			continue
		}
		if got := out + errString(err); !strings.Contains(got, tt.contain) {
			t.Errorf("milvault %v: got %q, want it to contain %q", tt.args, got, tt.contain)
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
