package capture

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/milvault/milvault/repo"
)

// heartbeatName is the file, in a guard's folder, that a running writer
// rewrites every commit interval.
const heartbeatName = "heartbeat.json"

// staleBeats is how many commit intervals without a heartbeat make a
// guard whose log is open count as stopped.
const staleBeats = 3

// heartbeat is capture/<guard-id>/heartbeat.json: when the writer was last
// alive, and how often it beats.
type heartbeat struct {
	Time time.Time `json:"time"`
	// IntervalMS is the writer's commit interval in milliseconds.
	IntervalMS int64 `json:"commit_interval_ms"`
	// Seq is the number of the writer's last committed segment.
	Seq uint64 `json:"seq"`
}

func heartbeatPath(guard string) string { return repo.CapturePrefix + guard + "/" + heartbeatName }

// beat writes the heartbeat; a failure is not reported: the next beat
// retries, and readers only judge beats older than staleBeats intervals.
func (w *Writer) beat(ctx context.Context) {
	w.commitM.Lock()
	seq := w.seq
	w.commitM.Unlock()
	hb := heartbeat{Time: w.opt.Now().UTC(), IntervalMS: w.opt.CommitInterval.Milliseconds(), Seq: seq}
	data, err := json.Marshal(hb)
	if err == nil {
		_ = w.st.PutCaptureState(ctx, heartbeatPath(w.opt.GuardID), data)
	}
}

// readHeartbeat returns the guard's heartbeat, nil when it has none.
func readHeartbeat(ctx context.Context, st Store, guard string) (*heartbeat, error) {
	data, err := st.ReadCaptureFile(ctx, heartbeatPath(guard))
	if errors.Is(err, repo.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the heartbeat of guard %s: %w", guard, err)
	}
	var hb heartbeat
	if err := json.Unmarshal(data, &hb); err != nil {
		return nil, fmt.Errorf("read the heartbeat of guard %s: %w", guard, err)
	}
	return &hb, nil
}

// stoppedGap returns the gap of a guard whose log ends open (no Close
// record after its last Open), from its last committed record to now,
// unless its heartbeat shows it alive: younger than staleBeats commit
// intervals. A log without a heartbeat (a copied log, a guard that died
// at once) ends open for good.
func stoppedGap(ctx context.Context, st Store, guard string, last uint64, now time.Time) (*Gap, error) {
	hb, err := readHeartbeat(ctx, st, guard)
	if err != nil {
		return nil, err
	}
	g := &Gap{From: last, To: max(HybridTS(now), last+1)}
	if hb == nil {
		g.Reason = fmt.Sprintf("the log of guard %s ends without closing and the guard left no heartbeat (stopped at once, or a copied log); writes after its last commit may be missing", guard)
		return g, nil
	}
	interval := time.Duration(hb.IntervalMS) * time.Millisecond
	if interval <= 0 {
		interval = DefaultCommitInterval
	}
	if now.Sub(hb.Time) <= staleBeats*interval {
		return nil, nil // alive
	}
	g.Reason = fmt.Sprintf("guard %s stopped without closing its log at ~%s (its last heartbeat); writes acknowledged in its last commit interval may be missing",
		guard, hb.Time.UTC().Format(time.RFC3339))
	return g, nil
}
