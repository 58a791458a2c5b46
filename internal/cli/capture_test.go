package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"google.golang.org/protobuf/proto"

	"github.com/milvault/milvault/capture"
	"github.com/milvault/milvault/errkind"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/local"
)

func TestCaptureUsageErrors(t *testing.T) {
	repoDir := filepath.Join(t.TempDir(), "repo")
	if _, _, err := run(t, nil, "--repo", repoDir, "init"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"restore", "--at", "yesterday", "-c", "docs"}, "--at \"yesterday\""},
		{[]string{"restore", "--at-ts", "-5", "-c", "docs"}, "--at-ts"},
		{[]string{"restore", "--at", "1h", "--at-ts", "5", "-c", "docs"}, "use one"},
		{[]string{"restore", "nightly", "--at", "1h", "-c", "docs"}, "drop the backup argument"},
		{[]string{"restore", "--at", "1h"}, "exactly one -c"},
		{[]string{"restore", "--at", "1h", "-c", "docs", "--auto-id", "regenerate"}, "regenerate"},
		{[]string{"restore"}, "--at TIME"},
		{[]string{"guard", "--capture", "sometimes"}, "fail-closed, fail-open or off"},
		{[]string{"guard", "--capture", "fail-open", "--guard-id", "a/b"}, "guard id"},
	}
	for _, tt := range tests {
		_, _, err := run(t, nil, append([]string{"--repo", repoDir, "--milvus", "127.0.0.1:1"}, tt.args...)...)
		if ExitCode(err) != errkind.Usage.ExitCode() || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("milvault %v: %v (exit %d), want a usage error containing %q", tt.args, err, ExitCode(err), tt.want)
		}
	}
}

func TestAtParsing(t *testing.T) {
	now := time.Date(2026, 11, 30, 17, 0, 0, 0, time.UTC)
	o := pitrFlags{At: "15m"}
	got, err := o.hybrid(now)
	if err != nil || capture.WallTime(got) != now.Add(-15*time.Minute) {
		t.Errorf("--at 15m = %v (%v), want 16:45", capture.WallTime(got), err)
	}
	o = pitrFlags{At: "2026-11-30T16:00:00.5Z"}
	got, err = o.hybrid(now)
	if err != nil || capture.WallTime(got) != time.Date(2026, 11, 30, 16, 0, 0, 5e8, time.UTC) || got&(1<<18-1) != 1<<18-1 {
		t.Errorf("--at RFC 3339 = %d (%v), want the whole millisecond 16:00:00.500", got, err)
	}
}

func TestLogCommand(t *testing.T) {
	repoDir := filepath.Join(t.TempDir(), "repo")
	if _, _, err := run(t, nil, "--repo", repoDir, "init"); err != nil {
		t.Fatal(err)
	}
	out, _, err := run(t, nil, "--repo", repoDir, "log")
	if err != nil || !strings.Contains(out, "capture log is empty") {
		t.Fatalf("log of an empty repository: %q, %v", out, err)
	}
	r := openTestRepo(t, repoDir)
	w, err := capture.Open(t.Context(), r, capture.Options{GuardID: "g"})
	if err != nil {
		t.Fatal(err)
	}
	ts := capture.HybridTS(time.Now())
	w.Append(capture.Record{Kind: capture.KindInsert, TS: ts, Database: "default", Collection: "docs", Request: []byte("xyz")})
	w.Append(capture.Record{Kind: capture.KindDelete, TS: ts + 1, Database: "default", Collection: "other", Request: []byte("d")})
	rename, _ := proto.Marshal(&milvuspb.RenameCollectionRequest{DbName: "default", OldName: "docs", NewName: "docs2", NewDBName: "default"})
	w.Append(capture.Record{Kind: capture.KindRenameCollection, TS: ts + 2, Database: "default", Collection: "docs", Request: rename})
	if err := w.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	out, _, err = run(t, nil, "--repo", repoDir, "log", "--segments")
	if err != nil || !strings.Contains(out, "default.docs") || !strings.Contains(out, "1 insert") || !strings.Contains(out, "capture began") || !strings.Contains(out, "capture/g/") ||
		!strings.Contains(out, "RenameCollection  default.docs  to default.docs2") {
		t.Errorf("log:\n%s\n%v", out, err)
	}
	out, _, err = run(t, nil, "--repo", repoDir, "--json", "log", "-c", "docs")
	var sum capture.Summary
	if err != nil || json.Unmarshal([]byte(out), &sum) != nil || sum.Records != 2 || len(sum.Collections) != 1 || len(sum.Changes) != 1 || sum.Changes[0].Detail != "to default.docs2" {
		t.Errorf("log --json -c docs: %s, %v", out, err)
	}
}

func openTestRepo(t *testing.T, dir string) *repo.Repository {
	t.Helper()
	st, err := local.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	r, err := repo.Open(t.Context(), st)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
