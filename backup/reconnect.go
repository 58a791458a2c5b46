package backup

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// reconnectBackoff bounds the wait between two probes of a Milvus that went
// away: the first probe comes after the first value, each next one after
// twice the last wait, at most the second value.
var reconnectBackoff = [2]time.Duration{250 * time.Millisecond, 5 * time.Second}

// runReconnecting is runLocked that survives Milvus going away mid-backup
// when p.Reconnect is set (logical backups only): it probes the server
// with backoff until it answers again, for at most p.Reconnect in all, and
// then carries on after the last key stored (the interrupted backup is
// resumed in this process, as `backup --resume` would), or starts again
// when nothing was stored yet. Any other error, a cancelled context or a
// server still away at the deadline returns the error as runLocked did.
func runReconnecting(ctx context.Context, deps Deps, p Params, start time.Time) (*Result, error) {
	res, err := runLocked(ctx, deps, p, start)
	if p.Reconnect <= 0 || deps.Native != nil {
		return res, err
	}
	deadline := deps.Now().Add(p.Reconnect)
	for err != nil && resumable(err) && ctx.Err() == nil {
		var ie *InterruptedError
		if errors.As(err, &ie) {
			p.Resume, p.resumeID = true, ie.ID
		}
		if werr := waitForMilvus(ctx, deps, deadline); werr != nil {
			return res, err
		}
		what := "starting the backup again (nothing was stored yet)"
		if ie != nil {
			what = fmt.Sprintf("resuming backup %s after its last stored key", ie.ID)
		}
		deps.Progress.Note(fmt.Sprintf("Milvus went away (%v) and answers again: %s", err, what))
		res, err = runLocked(ctx, deps, p, start)
	}
	return res, err
}

// waitForMilvus probes the server (ListDatabases) with backoff until it
// answers, or returns an error at the deadline or when ctx ends.
func waitForMilvus(ctx context.Context, deps Deps, deadline time.Time) error {
	wait := reconnectBackoff[0]
	for {
		left := deadline.Sub(deps.Now())
		if left <= 0 {
			return errors.New("Milvus did not answer again in time")
		}
		t := time.NewTimer(min(wait, left))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		if _, err := deps.Milvus.ListDatabases(ctx); err == nil {
			return nil
		}
		wait = min(2*wait, reconnectBackoff[1])
	}
}
