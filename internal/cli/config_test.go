package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// resolved parses args like milvault would, with every command's work
// replaced by nothing, and returns the command that would have run.
func resolved(t *testing.T, args ...string) (*cobra.Command, error) {
	t.Helper()
	var out, errOut strings.Builder
	root := newRoot(&GlobalOptions{stdout: &out, stderr: &errOut, stdin: strings.NewReader("")})
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			if sub.RunE != nil {
				sub.RunE = func(*cobra.Command, []string) error { return nil }
			}
			walk(sub)
		}
	}
	walk(root)
	root.SetArgs(args)
	return root.ExecuteC()
}

func flagValue(t *testing.T, cmd *cobra.Command, name string) string {
	t.Helper()
	f := cmd.Flags().Lookup(name)
	if f == nil {
		t.Fatalf("%s has no flag --%s", cmd.CommandPath(), name)
	}
	return f.Value.String()
}

// TestEveryFlagFromEnvAndFile sets flags of several commands from
// MILVAULT_* variables and from the YAML file, and checks precedence.
func TestEveryFlagFromEnvAndFile(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "milvault.yaml")
	os.WriteFile(cfg, []byte("chunk-size: 1GiB\nretries: 9\nrepo: /from/file\nkeep-within: 2w\nbackup:\n  lock-wait: 1d\n  collection: [docs, users]\n"+
		"profiles:\n  staging:\n    repo: /from/profile\n    backup:\n      chunk-size: 32MiB\n"), 0o644)
	t.Setenv("MILVAULT_CONFIG", cfg)
	tests := []struct {
		env  map[string]string
		args []string
		want map[string]string
	}{
		{nil, []string{"backup"}, map[string]string{"chunk-size": "1GiB", "retries": "9", "repo": "/from/file", "lock-wait": "1d", "collection": "[docs,users]"}},
		{map[string]string{"MILVAULT_CHUNK_SIZE": "64MiB", "MILVAULT_REPO": "/from/env"}, []string{"backup"},
			map[string]string{"chunk-size": "64MiB", "repo": "/from/env", "milvus": "localhost:19530"}},
		{map[string]string{"MILVAULT_CHUNK_SIZE": "64MiB"}, []string{"backup", "--chunk-size", "2GiB", "--lock-wait", "36h"},
			map[string]string{"chunk-size": "2GiB", "lock-wait": "1d12h"}},
		{nil, []string{"prune"}, map[string]string{"keep-within": "2w"}},
		{map[string]string{"MILVAULT_RPO": "1d"}, []string{"doctor"}, map[string]string{"rpo": "1d", "verify-within": "1w"}},
		{nil, []string{"drill", "--max-rto", "2h"}, map[string]string{"max-rto": "2h"}},
		{map[string]string{"MILVAULT_PRUNE_COLLECTION": "docs"}, []string{"prune"}, map[string]string{"collection": "docs"}},
		{nil, []string{"--profile", "staging", "backup"}, map[string]string{"repo": "/from/profile", "chunk-size": "32MiB", "retries": "9"}},
		{map[string]string{"MILVAULT_PROFILE": "staging"}, []string{"list"}, map[string]string{"repo": "/from/profile"}},
	}
	for _, tt := range tests {
		for k, v := range tt.env {
			t.Setenv(k, v)
		}
		cmd, err := resolved(t, tt.args...)
		if err != nil {
			t.Fatalf("%v with %v: %v", tt.args, tt.env, err)
		}
		for name, want := range tt.want {
			if got := flagValue(t, cmd, name); got != want {
				t.Errorf("%v with %v: --%s = %q, want %q", tt.args, tt.env, name, got, want)
			}
		}
		for k := range tt.env {
			t.Setenv(k, "")
		}
	}
}
