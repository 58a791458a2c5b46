package capture_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/milvault/milvault/capture"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/faulty"
	"github.com/milvault/milvault/repo/mem"
)

// pruneLog writes one segment per record: the open segment, docs writes at
// base+1..base+6 with an "other" write at base+4 in between, and the
// close segment.
func pruneLog(t *testing.T, st capture.Store) {
	t.Helper()
	ctx := context.Background()
	w := open(t, st, capture.Options{SegmentBytes: 1, Now: func() time.Time { return t0 }})
	for i := uint64(1); i <= 6; i++ {
		coll := "docs"
		if i == 4 {
			coll = "other"
		}
		if err := w.Append(write(capture.KindInsert, base+i, coll, "w")).Wait(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

func seqs(segs []capture.Segment) []uint64 {
	var out []uint64
	for _, s := range segs {
		out = append(out, s.Seq)
	}
	return out
}

func TestPruneKeepsWhatBackupsNeed(t *testing.T) {
	for _, tc := range []struct {
		name   string
		policy capture.PrunePolicy
		gone   int // segments deleted: 1 open, 2..7 writes, 8 close
	}{
		{"no backup", capture.PrunePolicy{}, 0},
		{"docs only: stops at the other collection", capture.PrunePolicy{Needed: map[string]uint64{"default.docs": base + 6}}, 4},
		{"both", capture.PrunePolicy{Needed: map[string]uint64{"default.docs": base + 6, "default.other": base + 5}}, 6},
		{"keep window", capture.PrunePolicy{Needed: map[string]uint64{"default.docs": base + 6, "default.other": base + 5}, KeepAfter: base + 2}, 2},
		{"never the newest segment", capture.PrunePolicy{Needed: map[string]uint64{"default.docs": ^uint64(0), "default.other": ^uint64(0)}}, 7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			r, _ := newRepo(t, "mem")
			pruneLog(t, r)
			dry := tc.policy
			dry.DryRun = true
			res, err := capture.Prune(ctx, r, dry)
			if err != nil || len(res.Segments) != tc.gone {
				t.Fatalf("dry run: %v, would delete %v, want segments 1 to %d", err, seqs(res.Segments), tc.gone)
			}
			if segs, _ := capture.ListSegments(ctx, r); len(segs) != 8 {
				t.Fatalf("the dry run deleted segments: %d left", len(segs))
			}
			if res, err = capture.Prune(ctx, r, tc.policy); err != nil || len(res.Segments) != tc.gone {
				t.Fatalf("prune: %v, deleted %v, want segments 1 to %d", err, seqs(res.Segments), tc.gone)
			}
			segs, _ := capture.ListSegments(ctx, r)
			if len(segs) != 8-tc.gone || segs[0].Seq != uint64(tc.gone+1) {
				t.Errorf("left %v, want segments %d to 8", seqs(segs), tc.gone+1)
			}
			checkPrunedLog(t, r, tc.policy)
		})
	}
}

// checkPrunedLog checks that what a backup needs reads without a gap and
// that the log still tells where it starts.
func checkPrunedLog(t *testing.T, r *repo.Repository, p capture.PrunePolicy) {
	t.Helper()
	ctx := context.Background()
	for name, from := range p.Needed {
		coll := strings.TrimPrefix(name, "default.")
		res, err := capture.Read(ctx, r, capture.Query{Database: "default", Collection: coll, From: max(from, p.KeepAfter) - 1})
		if err != nil || len(res.Gaps) != 0 {
			t.Errorf("%s after its backup: %v, gaps %+v, want none", name, err, res.Gaps)
		}
	}
	sum, err := capture.Summarize(ctx, r, capture.Query{})
	if err != nil {
		t.Fatal(err)
	}
	before := false
	for _, g := range sum.Gaps {
		if !g.Start() {
			t.Errorf("gap %+v, want only the start of the log (before capture, pruned)", g)
		}
		before = before || g.Reason == capture.ReasonBeforeCapture
	}
	if !before {
		t.Errorf("gaps %+v, want the time before capture started still reported", sum.Gaps)
	}
}

func TestPrunedLogContinues(t *testing.T) {
	ctx := context.Background()
	r, _ := newRepo(t, "local")
	pruneLog(t, r)
	p := capture.PrunePolicy{Needed: map[string]uint64{"default.docs": base + 6, "default.other": base + 5}}
	if _, err := capture.Prune(ctx, r, p); err != nil {
		t.Fatal(err)
	}
	// The same guard starts again: its numbering continues.
	w := open(t, r, capture.Options{SegmentBytes: 1, Now: func() time.Time { return t0.Add(time.Minute) }})
	if err := w.Append(write(capture.KindDelete, base+9, "docs", "d")).Wait(ctx); err != nil {
		t.Fatal(err)
	}
	w.Close(ctx)
	res, err := capture.Read(ctx, r, capture.Query{Database: "default", Collection: "docs", From: base + 5})
	if err != nil || len(res.Records) != 2 || len(res.Gaps) != 0 {
		t.Fatalf("after prune and restart: %v, %d records, gaps %+v; want 2 records, no gap", err, len(res.Records), res.Gaps)
	}
	res, err = capture.Read(ctx, r, capture.Query{Database: "default", Collection: "docs"})
	if err != nil || len(res.Gaps) != 2 || res.Gaps[0].Reason != capture.ReasonPruned && res.Gaps[1].Reason != capture.ReasonPruned {
		t.Fatalf("whole log: %v, gaps %+v, want before capture and pruned", err, res.Gaps)
	}
	for _, g := range res.Gaps {
		if g.Reason == capture.ReasonPruned && g.To != base+5 {
			t.Errorf("pruned gap %+v, want up to the newest pruned docs write (base+5)", g)
		}
	}
}

func TestInterruptedPruneIsFinishedLater(t *testing.T) {
	ctx := context.Background()
	st := faulty.New(mem.New(), 1, faulty.Rule{Ops: []faulty.Op{faulty.Delete}, Prefix: repo.CapturePrefix, Nth: 3, Kind: faulty.Permanent})
	r, err := repo.Init(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	pruneLog(t, r)
	p := capture.PrunePolicy{Needed: map[string]uint64{"default.docs": base + 6, "default.other": base + 5}}
	if _, err := capture.Prune(ctx, r, p); err == nil {
		t.Fatal("the failed delete was not reported")
	}
	res, err := capture.Read(ctx, r, capture.Query{Database: "default", Collection: "docs", From: base + 5})
	if err != nil || len(res.Gaps) != 0 || len(res.Records) != 1 {
		t.Fatalf("after the interrupted prune: %v, gaps %+v, %d records", err, res.Gaps, len(res.Records))
	}
	again, err := capture.Prune(ctx, r, p)
	if err != nil || len(again.Segments) != 4 {
		t.Fatalf("second prune: %v, deleted %v, want the 4 left over", err, seqs(again.Segments))
	}
}
