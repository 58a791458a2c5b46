package pitr_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/milvault/milvault/capture"
	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/pitr"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/mem"
)

// t0 is the time of the first fake backup; the others follow a minute apart.
var t0 = time.Now().Add(-time.Hour).Truncate(time.Millisecond)

func commitBackup(t *testing.T, r *repo.Repository, n int, snap time.Time, completed time.Time, pinned bool) string {
	t.Helper()
	m := &manifest.Manifest{FormatVersion: manifest.FormatVersion, ID: fmt.Sprintf("b%d", n), CreatedAt: snap, CompletedAt: completed,
		Snapshot:    manifest.Snapshot{Timestamp: capture.HybridTS(snap), Time: snap, Pinned: pinned},
		Collections: []manifest.Collection{{Database: "default", Name: "docs", Schema: []byte("{}"), Partitions: []manifest.Partition{{Name: "_default"}}}}}
	if err := r.Commit(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	return m.ID
}

func minute(n int) time.Time { return t0.Add(time.Duration(n) * time.Minute) }

func TestChooseBackup(t *testing.T) {
	ctx := context.Background()
	r, err := repo.Init(ctx, mem.New())
	if err != nil {
		t.Fatal(err)
	}
	commitBackup(t, r, 0, minute(0), minute(1), false)   // read from minute 0 to 1
	commitBackup(t, r, 1, minute(10), minute(12), false) // read from 10 to 12
	commitBackup(t, r, 2, minute(20), minute(25), true)  // pinned at 20
	// Capture covers everything from before the first backup on.
	w, err := capture.Open(ctx, r, capture.Options{GuardID: "g", Now: func() time.Time { return t0.Add(-time.Minute) }})
	if err != nil {
		t.Fatal(err)
	}
	w.Close(ctx)
	for _, tc := range []struct {
		at   time.Time
		want string // "" for NoBackupError
	}{
		{minute(0).Add(30 * time.Second), ""}, // b0 still being read
		{minute(5), "b0"},
		{minute(11), "b0"}, // b1 still being read: it may hold writes after 11
		{minute(12).Add(time.Second), "b1"},
		{minute(21), "b2"}, // pinned: usable from its snapshot on
	} {
		pl, err := pitr.MakePlan(ctx, r, pitr.Params{Collection: "docs", At: capture.HybridTS(tc.at)})
		var nb *pitr.NoBackupError
		switch {
		case tc.want == "" && !errors.As(err, &nb):
			t.Errorf("at %v: got %v, want a NoBackupError", tc.at.Sub(t0), err)
		case tc.want != "" && err != nil:
			t.Errorf("at %v: %v", tc.at.Sub(t0), err)
		case tc.want != "" && pl.BackupID != tc.want:
			t.Errorf("at %v: base %s, want %s", tc.at.Sub(t0), pl.BackupID, tc.want)
		}
	}
}

func TestGapRefusesRestore(t *testing.T) {
	ctx := context.Background()
	r, err := repo.Init(ctx, mem.New())
	if err != nil {
		t.Fatal(err)
	}
	commitBackup(t, r, 0, minute(0), minute(1), false)
	// Capture started only at minute 3: writes of minutes 0 to 3 are unknown.
	w, err := capture.Open(ctx, r, capture.Options{GuardID: "g", Now: func() time.Time { return minute(3) }})
	if err != nil {
		t.Fatal(err)
	}
	w.Append(capture.Record{Kind: capture.KindDelete, TS: capture.HybridTS(minute(4)), Database: "default", Collection: "docs", Request: []byte{}})
	w.Close(ctx)
	_, err = pitr.MakePlan(ctx, r, pitr.Params{Collection: "docs", At: capture.HybridTS(minute(5))})
	var ge *pitr.GapError
	if !errors.As(err, &ge) || !strings.Contains(err.Error(), "before capture started") || !strings.Contains(err.Error(), "--allow-gaps") {
		t.Fatalf("got %v, want a GapError naming the time before capture and --allow-gaps", err)
	}
	pl, err := pitr.MakePlan(ctx, r, pitr.Params{Collection: "docs", At: capture.HybridTS(minute(5)), AllowGaps: true})
	if err != nil || pl.Writes != 1 || len(pl.Gaps) != 1 || pl.Counts["Delete"] != 1 {
		t.Fatalf("with AllowGaps: %v, %+v", err, pl)
	}
}
