package cli

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/milvault/milvault/internal/testbackup"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/local"
)

// complete runs cobra's hidden __complete command as a shell would and
// returns the offered values (descriptions cut off) and the directive line.
func complete(t *testing.T, args ...string) ([]string, string) {
	t.Helper()
	var out, errOut strings.Builder
	code := Execute(context.Background(), append([]string{"__complete"}, args...), strings.NewReader(""), &out, &errOut)
	if code != 0 {
		t.Fatalf("__complete %v: exit %d, %s", args, code, errOut.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var values []string
	for _, l := range lines[:len(lines)-1] {
		v, _, _ := strings.Cut(l, "\t")
		values = append(values, v)
	}
	return values, lines[len(lines)-1]
}

// TestCompletion completes backup ids and names, collection names and flag
// values against a repository holding real backups (Parquet files and
// committed manifests written by testbackup).
func TestCompletion(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "repo")
	s, _ := local.New(dir)
	r, err := repo.Init(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Add(-time.Hour)
	backups := []struct{ id, name, coll string }{{"20260101T000000Z-aaaaaa", "nightly", "docs"}, {"20260102T000000Z-bbbbbb", "", "users"}}
	for i, b := range backups {
		if _, err := testbackup.WriteNamed(ctx, r, b.id, b.name, b.coll, []string{"_default"}, 1, 5, now.Add(time.Duration(i)*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"--repo", dir, "show", ""}, []string{"20260102T000000Z-bbbbbb", "nightly", "20260101T000000Z-aaaaaa"}},
		{[]string{"--repo", dir, "restore", ""}, []string{"20260102T000000Z-bbbbbb", "nightly", "20260101T000000Z-aaaaaa"}},
		{[]string{"--repo", dir, "restore", "nightly", "-c", ""}, []string{"default.docs"}},
		{[]string{"--repo", dir, "list", "--collection", ""}, []string{"default.users", "default.docs"}},
		{[]string{"verify", "x", "--mode", ""}, []string{"checksum", "quick", "deep"}},
		{[]string{"backup", "--compression", ""}, []string{"zstd", "none"}},
		{[]string{"backup", "--checksum", ""}, []string{"sha256", "blake2b", "md5"}},
		{[]string{"backup", "--verify="}, []string{"checksum", "quick", "deep"}},
		{[]string{"restore", "x", "--auto-id", ""}, []string{"preserve", "regenerate"}},
	}
	for _, tt := range tests {
		got, directive := complete(t, tt.args...)
		if !slices.Equal(got, tt.want) || !strings.HasPrefix(directive, ":") {
			t.Errorf("complete %v = %v (%s), want %v", tt.args, got, directive, tt.want)
		}
	}
	// With MILVAULT_REPO instead of --repo, as a shell profile would set it.
	t.Setenv("MILVAULT_REPO", dir)
	if got, _ := complete(t, "drill", ""); len(got) != 3 {
		t.Errorf("complete drill with MILVAULT_REPO = %v, want the 3 ids and names", got)
	}
}
