package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/milvault/milvault/errkind"
	"github.com/milvault/milvault/milvus"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/restore"
)

func TestExitCode(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{nil, ExitOK},
		{errors.New("x"), errkind.Failure.ExitCode()},
		{usageErrorf("x"), errkind.Usage.ExitCode()},
		{fmt.Errorf("wrapped: %w", &repo.BackupNotFoundError{Ref: "x"}), errkind.NotFound.ExitCode()},
		{&milvus.CollectionNotFoundError{}, errkind.NotFound.ExitCode()},
		{&milvus.UnreachableError{Address: "a", Err: errors.New("x")}, errkind.Unreachable.ExitCode()},
		{&restore.ExistsError{}, errkind.Conflict.ExitCode()},
		{&restore.AliasConflictError{}, errkind.Conflict.ExitCode()},
		{context.Canceled, errkind.Interrupted.ExitCode()},
	}
	for _, tt := range tests {
		if got := ExitCode(tt.err); got != tt.want {
			t.Errorf("ExitCode(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}

// run executes the CLI in-process.
func run(t *testing.T, env map[string]string, args ...string) (string, string, error) {
	t.Helper()
	for k, v := range env {
		t.Setenv(k, v)
	}
	var out, errOut bytes.Buffer
	cmd := NewRootCommand(strings.NewReader(""), &out, &errOut)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

func TestConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "c.yaml")
	os.WriteFile(cfg, []byte("repo: "+filepath.Join(dir, "from-file")+"\nmilvus: file:1\n"), 0o644)
	// The file's repo does not exist: list reports it by path, proving which value won.
	_, _, err := run(t, map[string]string{"MILVAULT_CONFIG": cfg, "MILVAULT_REPO": ""}, "list")
	if err == nil || !strings.Contains(err.Error(), "from-file") {
		t.Fatalf("list with config file: %v, want repo from file", err)
	}
	_, _, err = run(t, map[string]string{"MILVAULT_CONFIG": cfg, "MILVAULT_REPO": filepath.Join(dir, "from-env")}, "list")
	if err == nil || !strings.Contains(err.Error(), "from-env") {
		t.Fatalf("list with env: %v, want repo from env", err)
	}
	_, _, err = run(t, map[string]string{"MILVAULT_CONFIG": cfg}, "--repo", filepath.Join(dir, "from-flag"), "list")
	if err == nil || !strings.Contains(err.Error(), "from-flag") {
		t.Fatalf("list with flag: %v, want repo from flag", err)
	}
	os.WriteFile(cfg, []byte("colour: blue\n"), 0o644)
	if _, _, err = run(t, map[string]string{"MILVAULT_CONFIG": cfg}, "list"); ExitCode(err) != errkind.Usage.ExitCode() {
		t.Fatalf("unknown config key: %v (exit %d), want usage error", err, ExitCode(err))
	}
}

func TestUsageErrors(t *testing.T) {
	tests := [][]string{
		{"show"},
		{"backup", "--no-such-flag"},
		{"backup", "--chunk-size", "lots"},
		{"backup", "--checksum", "crc"},
		{"restore", "x", "--load", "--no-load"},
		{"restore", "x", "--auto-id", "maybe"},
		{"--repo", "ftp://bucket/x", "list"},
	}
	for _, args := range tests {
		_, _, err := run(t, nil, args...)
		if ExitCode(err) != errkind.Usage.ExitCode() {
			t.Errorf("milvault %v: err %v (exit %d), want usage error", args, err, ExitCode(err))
		}
	}
}

func TestRestoreBulkImportFlags(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		opts RestoreOptions
		want string // substring of the usage error; "" means valid
	}{
		{RestoreOptions{BulkImport: dir}, ""},
		{RestoreOptions{BulkImport: dir, BulkImportServerPath: "/var/lib/milvus/import", BulkImportStrict: true}, ""},
		{RestoreOptions{BulkImportStrict: true}, "need --bulk-import DIR"},
		{RestoreOptions{BulkImportServerPath: "/x"}, "need --bulk-import DIR"},
		{RestoreOptions{BulkImport: filepath.Join(dir, "missing")}, "does not exist"},
	}
	for _, tt := range tests {
		o := tt.opts
		o.AutoID, o.Workers = restore.AutoIDPreserve, 2
		p, err := o.params()
		if tt.want == "" {
			if err != nil || p.BulkImportDir != o.BulkImport || p.BulkImportServerPath != o.BulkImportServerPath || p.BulkImportStrict != o.BulkImportStrict {
				t.Errorf("%+v: params %+v, %v", tt.opts, p, err)
			}
			continue
		}
		if err == nil || ExitCode(err) != errkind.Usage.ExitCode() || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: got %v, want a usage error containing %q", tt.opts, err, tt.want)
		}
	}
}
