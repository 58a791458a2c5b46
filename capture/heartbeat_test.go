package capture_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/milvault/milvault/capture"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/mem"
)

func TestStoppedGuardIsAGapOnceItsHeartbeatIsStale(t *testing.T) {
	ctx := context.Background()
	r, _ := newRepo(t, "mem")
	interval := time.Minute
	w := open(t, r, capture.Options{CommitInterval: interval, Now: func() time.Time { return t0 }})
	defer w.Close(ctx)
	if err := w.AppendNow(write(capture.KindInsert, base+7, "docs", "a")).Wait(ctx); err != nil {
		t.Fatal(err)
	}
	// The guard never closes (killed) and its id never starts again.
	for _, tc := range []struct {
		after time.Duration
		gap   bool
	}{{time.Second, false}, {3 * interval, false}, {3*interval + time.Second, true}, {time.Hour, true}} {
		now := t0.Add(tc.after)
		res, err := capture.Read(ctx, r, capture.Query{From: base, Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case !tc.gap && len(res.Gaps) != 0:
			t.Errorf("%s after the last heartbeat: gaps %+v, want none (the guard is alive)", tc.after, res.Gaps)
		case tc.gap && (len(res.Gaps) != 1 || res.Gaps[0].From != base+7 || res.Gaps[0].To != capture.HybridTS(now) ||
			!strings.Contains(res.Gaps[0].Reason, "guard g1 stopped without closing its log at ~"+t0.UTC().Format(time.RFC3339))):
			t.Errorf("%s after the last heartbeat: gaps %+v, want (last write, now] naming guard g1 and its last heartbeat", tc.after, res.Gaps)
		}
	}
}

func TestOpenLogWithoutHeartbeatIsAGap(t *testing.T) {
	ctx := context.Background()
	st := mem.New()
	r, err := repo.Init(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	w := open(t, r, capture.Options{Now: func() time.Time { return t0 }})
	defer w.Close(ctx)
	if err := w.AppendNow(write(capture.KindInsert, base+3, "docs", "a")).Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if err := st.Delete(ctx, repo.CapturePrefix+"g1/heartbeat.json"); err != nil {
		t.Fatal(err)
	}
	res, err := capture.Read(ctx, r, capture.Query{From: base, Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Gaps) != 1 || res.Gaps[0].From != base+3 || !strings.Contains(res.Gaps[0].Reason, "no heartbeat") {
		t.Errorf("gaps = %+v, want one from the last write saying the guard left no heartbeat", res.Gaps)
	}
}
