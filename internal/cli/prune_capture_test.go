package cli

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/milvault/milvault/audit"
	"github.com/milvault/milvault/capture"
	"github.com/milvault/milvault/internal/testbackup"
	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/pitr"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/blob"
	"github.com/milvault/milvault/repo/local"
)

// captureRepos returns repository locations to test with: a local folder
// and, when the test S3 server runs, a fresh prefix of its bucket.
func captureRepos(t *testing.T) map[string]string {
	t.Helper()
	locs := map[string]string{"local": filepath.Join(t.TempDir(), "repo")}
	if u := testbackup.S3URL(t, "prune-capture"); u != "" {
		locs["s3"] = u
	} else {
		t.Log("no S3 case: " + testbackup.S3Skip)
	}
	return locs
}

func openLocation(t *testing.T, loc string) *repo.Repository {
	t.Helper()
	ctx := context.Background()
	var st repo.Store
	var err error
	if filepath.IsAbs(loc) {
		st, err = local.New(loc)
	} else {
		var bs *blob.Store
		bs, err = blob.Open(ctx, loc)
		if err == nil {
			t.Cleanup(func() { bs.DeleteAll(context.Background(), ""); bs.Close() })
		}
		st = bs
	}
	if err != nil {
		t.Fatal(err)
	}
	r, err := repo.OpenOrInit(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// commitSnapshot commits a backup of default.docs without data, taken at
// created, whose snapshot is snap.
func commitSnapshot(t *testing.T, r *repo.Repository, id string, snap, created time.Time) {
	t.Helper()
	m := &manifest.Manifest{FormatVersion: manifest.FormatVersion, ID: id, CreatedAt: created, CompletedAt: snap.Add(time.Second),
		Snapshot:    manifest.Snapshot{Timestamp: capture.HybridTS(snap), Time: snap},
		Collections: []manifest.Collection{{Database: "default", Name: "docs", Schema: []byte("{}"), Partitions: []manifest.Partition{{Name: "_default"}}}}}
	if err := r.Commit(context.Background(), m); err != nil {
		t.Fatal(err)
	}
}

// captureMinutes writes one segment per minute 1..n of docs writes
// (minute k at t0+k), after the open segment at t0, then closes.
func captureMinutes(t *testing.T, r *repo.Repository, t0 time.Time, n int) {
	t.Helper()
	ctx := context.Background()
	w, err := capture.Open(ctx, r, capture.Options{GuardID: "g1", SegmentBytes: 1, CommitInterval: time.Hour, Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	for k := 1; k <= n; k++ {
		rec := capture.Record{Kind: capture.KindDelete, TS: capture.HybridTS(t0.Add(time.Duration(k) * time.Minute)), Database: "default", Collection: "docs", Request: []byte{}}
		if err := w.Append(rec).Wait(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestPruneDeletesCaptureNoBackupNeeds: prune removes the older backup and
// the capture segments before the oldest retained backup's snapshot; the
// dry run says so first; `milvault log` then shows where the log starts,
// without a damaged or missing segment, and a point-in-time restore from
// the retained backup plans without a gap.
func TestPruneDeletesCaptureNoBackupNeeds(t *testing.T) {
	for kind, loc := range captureRepos(t) {
		t.Run(kind, func(t *testing.T) {
			ctx := context.Background()
			r := openLocation(t, loc)
			now := time.Now()
			t0 := now.Add(-time.Hour).Truncate(time.Millisecond)
			captureMinutes(t, r, t0, 8)
			commitSnapshot(t, r, "b1", t0.Add(2*time.Minute+time.Second), now.Add(-72*time.Hour))
			commitSnapshot(t, r, "b2", t0.Add(5*time.Minute+time.Second), now.Add(-24*time.Hour))
			args := []string{"--repo", loc, "--json", "prune", "--keep-within", "2d", "--min-keep", "1"}
			dry := pruneJSON(t, append(args, "--dry-run")...)
			// Gone: the open segment and minutes 1 to 5 (older than b2's snapshot).
			if dry.Capture == nil || len(dry.Capture.Segments) != 6 {
				t.Fatalf("dry run: capture %+v, want 6 segments", dry.Capture)
			}
			if segs, _ := capture.ListSegments(ctx, r); len(segs) != 10 {
				t.Fatalf("the dry run deleted segments: %d left of 10", len(segs))
			}
			rep := pruneJSON(t, args...)
			if len(rep.Deleted) != 1 || rep.Capture == nil || len(rep.Capture.Segments) != 6 {
				t.Fatalf("prune deleted %v and capture %+v, want b1 and 6 segments", rep.Deleted, rep.Capture)
			}
			if segs, _ := capture.ListSegments(ctx, r); len(segs) != 4 {
				t.Fatalf("%d segments left, want 4 (minutes 6 to 8, close)", len(segs))
			}
			checkLogStart(t, loc)
			out, _, err := run(t, nil, "--repo", loc, "--json", "audit")
			var entries []audit.Entry
			if err != nil || json.Unmarshal([]byte(out), &entries) != nil || len(entries) != 1 || entries[0].Params["capture_segments"] != float64(6) {
				t.Errorf("audit --json = %s, %v; want the prune with its 6 capture segments", out, err)
			}
			pl, err := pitr.MakePlan(ctx, r, pitr.Params{Collection: "docs", At: capture.HybridTS(t0.Add(7 * time.Minute))})
			if err != nil || pl.BackupID != "b2" || pl.Writes != 2 {
				t.Fatalf("plan after prune: %v, %+v; want b2 and the writes of minutes 6 and 7", err, pl)
			}
		})
	}
}

// checkLogStart checks that `milvault log` reports only the start of the
// log: before capture and pruned.
func checkLogStart(t *testing.T, loc string) {
	t.Helper()
	out, _, err := run(t, nil, "--repo", loc, "--json", "log")
	var sum capture.Summary
	if err != nil || json.Unmarshal([]byte(out), &sum) != nil {
		t.Fatalf("log: %v, %q", err, out)
	}
	pruned := false
	for _, g := range sum.Gaps {
		if !g.Start() {
			t.Errorf("log reports gap %+v, want only the start of the log", g)
		}
		pruned = pruned || g.Reason == capture.ReasonPruned
	}
	if !pruned {
		t.Errorf("log gaps %+v do not say the log was pruned", sum.Gaps)
	}
	text, _, err := run(t, nil, "--repo", loc, "log")
	if err != nil || !strings.Contains(text, "pruned before") {
		t.Errorf("log: %v\n%s\nwant a line saying the log was pruned before a time", err, text)
	}
}

// TestPruneKeepCaptureWindow: --keep-capture keeps segments younger than
// the window even when no backup needs them.
func TestPruneKeepCaptureWindow(t *testing.T) {
	ctx := context.Background()
	loc := filepath.Join(t.TempDir(), "repo")
	r := openLocation(t, loc)
	now := time.Now()
	t0 := now.Add(-time.Hour).Truncate(time.Millisecond)
	captureMinutes(t, r, t0, 8)
	commitSnapshot(t, r, "b2", t0.Add(9*time.Minute), now.Add(-time.Hour))
	// Older than 57.5 minutes: the open segment and minutes 1 and 2.
	rep := pruneJSON(t, "--repo", loc, "--json", "prune", "--keep-last", "1", "--keep-capture", "57m30s")
	if rep.Capture == nil || len(rep.Capture.Segments) != 3 {
		t.Fatalf("capture %+v, want 3 segments", rep.Capture)
	}
	if segs, _ := capture.ListSegments(ctx, r); len(segs) != 7 {
		t.Fatalf("%d segments left, want 7", len(segs))
	}
}
