package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/milvault/milvault/errkind"
	"github.com/milvault/milvault/internal/testbackup"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/local"
)

// TestPruneDryRunAgrees checks that prune deletes exactly what --dry-run
// said it would, and that the kept backups still list.
func TestPruneDryRunAgrees(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "repo")
	s, _ := local.New(dir)
	r, err := repo.OpenOrInit(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for i := range 10 {
		id := fmt.Sprintf("b%02d", i)
		if _, err := testbackup.Write(ctx, r, id, "docs", []string{"_default"}, 1, 5, now.Add(-time.Duration(i)*36*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	args := []string{"--repo", dir, "--json", "prune", "--keep-last", "2", "--keep-within", "5d", "--min-keep", "1"}
	dry := pruneJSON(t, append(args, "--dry-run")...)
	real := pruneJSON(t, args...)
	var wouldRemove []string
	for _, b := range dry.Backups {
		if !b.Keep {
			wouldRemove = append(wouldRemove, b.ID)
		}
	}
	slices.Sort(wouldRemove)
	slices.Sort(real.Deleted)
	if len(wouldRemove) == 0 || !slices.Equal(wouldRemove, real.Deleted) || len(dry.Deleted) != 0 {
		t.Fatalf("dry run would remove %v (deleted %v), prune deleted %v", wouldRemove, dry.Deleted, real.Deleted)
	}
	left, _, _ := r.List(ctx)
	if len(left)+len(real.Deleted) != 10 {
		t.Fatalf("%d backups left after deleting %d of 10", len(left), len(real.Deleted))
	}
	if files, _ := s.List(ctx, "data/"+real.Deleted[0]+"/"); len(files) != 0 {
		t.Fatalf("data of deleted backup %s remains: %v", real.Deleted[0], files)
	}
}

func pruneJSON(t *testing.T, args ...string) pruneReport {
	t.Helper()
	out, _, err := run(t, nil, args...)
	if err != nil {
		t.Fatalf("milvault %v: %v", args, err)
	}
	var rep pruneReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("prune --json output %q: %v", out, err)
	}
	return rep
}

func TestPruneRefusesEmptyPolicy(t *testing.T) {
	_, _, err := run(t, nil, "--repo", t.TempDir(), "prune")
	if ExitCode(err) != errkind.Usage.ExitCode() {
		t.Fatalf("prune without rules: %v (exit %d), want usage error", err, ExitCode(err))
	}
}

func TestParseFractionAndAge(t *testing.T) {
	for in, want := range map[string]float64{"5%": 0.05, "0.1": 0.1, "100%": 1} {
		if got, err := parseFraction(in); err != nil || got != want {
			t.Errorf("parseFraction(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"0", "150%", "x", "-1"} {
		if _, err := parseFraction(bad); err == nil {
			t.Errorf("parseFraction(%q) accepted", bad)
		}
	}
}

// TestPruneWaitsForReaders: prune takes the exclusive lock for its whole
// run, so while a restore (in this process) holds a shared lock it fails
// with exit 6 and deletes nothing, and with --lock-wait it deletes once the
// restore released its lock; --dry-run deletes nothing and needs no lock.
func TestPruneWaitsForReaders(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "repo")
	s, _ := local.New(dir)
	r, err := repo.OpenOrInit(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for i := range 3 {
		if _, err := testbackup.Write(ctx, r, fmt.Sprintf("b%02d", i), "docs", []string{"_default"}, 1, 5, now.Add(-time.Duration(i)*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	reader, _, err := r.Lock(ctx, repo.LockOptions{Operation: "restore"})
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"--repo", dir, "--json", "prune", "--keep-last", "1", "--min-keep", "1"}
	_, _, err = run(t, nil, args...)
	if ExitCode(err) != errkind.Conflict.ExitCode() || !strings.Contains(err.Error(), "shared lock for restore") {
		t.Fatalf("prune under a restore: %v (exit %d), want exit %d naming the restore", err, ExitCode(err), errkind.Conflict.ExitCode())
	}
	if dry := pruneJSON(t, append(args, "--dry-run")...); len(dry.Backups) != 3 || len(dry.Deleted) != 0 {
		t.Fatalf("dry run under a restore: %+v", dry)
	}
	if left, _, _ := r.List(ctx); len(left) != 3 {
		t.Fatalf("%d backups left under the restore, want 3", len(left))
	}
	time.AfterFunc(50*time.Millisecond, func() { reader.Unlock() })
	if rep := pruneJSON(t, append(args, "--lock-wait", "1m")...); len(rep.Deleted) != 2 {
		t.Fatalf("waiting prune deleted %v, want 2 backups", rep.Deleted)
	}
}
