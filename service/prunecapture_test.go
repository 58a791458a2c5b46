package service

import (
	"context"
	"testing"
	"time"

	"github.com/milvault/milvault/capture"
	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/mem"
)

// TestPolicyPruneDeletesCapture: a policy's prune also deletes the capture
// segments older than the oldest backup left, within keep_capture's limit.
func TestPolicyPruneDeletesCapture(t *testing.T) {
	ctx := context.Background()
	r, err := repo.Init(ctx, mem.New())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	t0 := now.Add(-time.Hour).Truncate(time.Millisecond)
	w, err := capture.Open(ctx, r, capture.Options{GuardID: "g", SegmentBytes: 1, Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	for k := 1; k <= 4; k++ {
		rec := capture.Record{Kind: capture.KindDelete, TS: capture.HybridTS(t0.Add(time.Duration(k) * time.Minute)), Database: "default", Collection: "docs"}
		if err := w.Append(rec).Wait(ctx); err != nil {
			t.Fatal(err)
		}
	}
	w.Close(ctx)
	snap := t0.Add(3*time.Minute + time.Second)
	m := &manifest.Manifest{FormatVersion: manifest.FormatVersion, ID: "b1", CreatedAt: now, CompletedAt: now,
		Snapshot:    manifest.Snapshot{Timestamp: capture.HybridTS(snap), Time: snap},
		Collections: []manifest.Collection{{Database: "default", Name: "docs", Schema: []byte("{}"), Partitions: []manifest.Partition{{Name: "_default"}}}}}
	if err := r.Commit(ctx, m); err != nil {
		t.Fatal(err)
	}
	if _, err := (RetentionConfig{KeepLast: 1, KeepCapture: "soon"}).keepCapture(); err == nil {
		t.Error("keep_capture: soon was accepted")
	}
	// Within 58m30s: minutes 2 on are kept although no backup needs 2 and 3.
	n, err := pruneCaptureLog(ctx, r, nil, RetentionConfig{KeepLast: 1, KeepCapture: "58m30s"}, now)
	if err != nil || n != 2 {
		t.Fatalf("pruned %d segments (%v), want the open one and minute 1", n, err)
	}
	if n, err = pruneCaptureLog(ctx, r, nil, RetentionConfig{KeepLast: 1}, now); err != nil || n != 2 {
		t.Fatalf("pruned %d segments (%v), want minutes 2 and 3 (older than b1)", n, err)
	}
	if n, err = pruneCaptureLog(ctx, r, nil, RetentionConfig{}, now); err != nil || n != 0 {
		t.Fatalf("a policy without retention pruned %d segments (%v)", n, err)
	}
}
