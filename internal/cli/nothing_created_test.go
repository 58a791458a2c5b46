package cli

import (
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/milvault/milvault/errkind"
)

// TestRefusalsCreateNothing runs every command with bad flags, with no
// repository and with no Milvus server (port 1): usage errors exit 2,
// a missing repository exits 3, and neither the repository location nor the
// working directory gains a file.
func TestRefusalsCreateNothing(t *testing.T) {
	usage := errkind.Usage.ExitCode()
	noRepo := errkind.NotRepository.ExitCode()
	tests := []struct {
		args []string
		want int
	}{
		{[]string{"backup", "--no-such-flag"}, usage},
		{[]string{"backup", "--chunk-size", "lots"}, usage},
		{[]string{"backup", "--checksum", "crc"}, usage},
		{[]string{"backup", "--compression", "lz4"}, usage},
		{[]string{"backup", "--compression-level", "40"}, usage},
		{[]string{"backup", "--verify=full"}, usage},
		{[]string{"backup", "-p", "p1"}, usage},
		{[]string{"backup", "--init", "-p", "p1"}, usage},
		{[]string{"backup", "--name", "no/slash"}, usage},
		{[]string{"backup", "--all-databases", "-c", "x"}, usage},
		{[]string{"backup", "--lock-wait", "soon"}, usage},
		{[]string{"restore"}, usage},
		{[]string{"restore", "x", "--load", "--no-load"}, usage},
		{[]string{"restore", "x", "--auto-id", "maybe"}, usage},
		{[]string{"restore", "x", "--target", "a", "--suffix", "b"}, usage},
		{[]string{"restore", "x", "--workers", "0"}, usage},
		{[]string{"list", "extra"}, usage},
		{[]string{"show"}, usage},
		{[]string{"delete"}, usage},
		{[]string{"verify", "x", "--mode", "bogus"}, usage},
		{[]string{"prune"}, usage},
		{[]string{"prune", "--keep-within", "soon"}, usage},
		{[]string{"drill", "x", "--max-rto", "lots"}, usage},
		{[]string{"copy", "x"}, usage},
		{[]string{"unlock", "--bogus"}, usage},
		{[]string{"init", "extra"}, usage},
		{[]string{"--repo", "ftp://bucket/x", "list"}, usage},
		{[]string{"--retries", "0", "list"}, usage},
		{[]string{"demo", "--bogus"}, usage},
		{[]string{"backup", "-c", "docs"}, noRepo},
		{[]string{"list"}, noRepo},
		{[]string{"show", "x"}, noRepo},
		{[]string{"restore", "x"}, noRepo},
		{[]string{"delete", "x", "--yes"}, noRepo},
		{[]string{"verify", "x"}, noRepo},
		{[]string{"prune", "--keep-last", "1"}, noRepo},
		{[]string{"copy", "x", "--to", "elsewhere"}, noRepo},
		{[]string{"bogus-command"}, usage},
		{[]string{"drill", "x"}, noRepo},
		{[]string{"unlock"}, noRepo},
	}
	root := t.TempDir()
	t.Chdir(root)
	repoDir := filepath.Join(root, "repo")
	for _, tt := range tests {
		args := append([]string{"--repo", repoDir, "--milvus", "127.0.0.1:1", "-q"}, tt.args...)
		var out, errOut strings.Builder
		got := Execute(context.Background(), args, strings.NewReader(""), &out, &errOut)
		if got != tt.want {
			t.Errorf("milvault %s: exit %d, want %d; stderr: %s", strings.Join(tt.args, " "), got, tt.want, errOut.String())
		}
		if got == noRepo && (!strings.Contains(errOut.String(), "milvault init") || !strings.Contains(errOut.String(), "does not exist")) {
			t.Errorf("milvault %s: %q does not suggest milvault init", strings.Join(tt.args, " "), errOut.String())
		}
		if files := filesUnder(t, root); len(files) > 0 {
			t.Fatalf("milvault %s created %v", strings.Join(tt.args, " "), files)
		}
	}
}

// TestBackupIntoEmptyFolder proves that a backup into an empty folder
// without init fails, says what it found, and leaves the folder empty.
func TestBackupIntoEmptyFolder(t *testing.T) {
	dir := t.TempDir()
	var out, errOut strings.Builder
	got := Execute(context.Background(), []string{"--repo", dir, "--milvus", "127.0.0.1:1", "backup", "-c", "docs"}, strings.NewReader(""), &out, &errOut)
	if got != errkind.NotRepository.ExitCode() || !strings.Contains(errOut.String(), "the location is empty") {
		t.Fatalf("backup into an empty folder: exit %d, stderr %q", got, errOut.String())
	}
	if files := filesUnder(t, dir); len(files) > 0 {
		t.Fatalf("backup created %v", files)
	}
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o644)
	got = Execute(context.Background(), []string{"--repo", dir, "list"}, strings.NewReader(""), &out, &errOut)
	if got != errkind.NotRepository.ExitCode() || !strings.Contains(errOut.String(), "notes.txt") {
		t.Fatalf("list of a foreign folder: exit %d, stderr %q", got, errOut.String())
	}
}

func filesUnder(t *testing.T, root string) []string {
	t.Helper()
	var files []string
	filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err == nil && path != root {
			files = append(files, path)
		}
		return nil
	})
	return files
}

// TestJSONErrorObject checks the error object that --json prints on stdout
// next to the text on stderr, for a failure in flag parsing and in a run.
func TestJSONErrorObject(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		args     []string
		kind     string
		exitCode int
	}{
		{[]string{"--json", "--repo", dir, "list"}, "not_repository", 3},
		{[]string{"--json", "backup", "--no-such-flag"}, "usage", 2},
	}
	for _, tt := range tests {
		var out, errOut strings.Builder
		code := Execute(context.Background(), tt.args, strings.NewReader(""), &out, &errOut)
		var got errorJSON
		if err := json.Unmarshal([]byte(out.String()), &got); err != nil {
			t.Fatalf("%v: stdout %q is not a JSON error object: %v", tt.args, out.String(), err)
		}
		e := got.Error
		if e.Kind.String() != tt.kind || e.ExitCode != tt.exitCode || code != tt.exitCode || e.Message == "" || !strings.Contains(errOut.String(), e.Message) {
			t.Errorf("%v: exit %d, object %+v, stderr %q; want kind %s, exit %d, the message on stderr", tt.args, code, e, errOut.String(), tt.kind, tt.exitCode)
		}
	}
}
