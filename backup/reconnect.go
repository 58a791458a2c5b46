package backup

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Waits between two attempts of a backup whose Milvus went away: the first
// comes after reconnectFirst, each next one after twice the last wait, at
// most reconnectMax.
const (
	reconnectFirst = 250 * time.Millisecond
	reconnectMax   = 5 * time.Second
)

// runReconnecting is runLocked that survives Milvus going away mid-backup
// when p.Reconnect is set (logical backups only). It waits with backoff
// until the server answers again, then carries on after the last key
// stored: it resumes its own interrupted backup in this process, as
// `backup --resume` would, or starts again when nothing was stored yet.
// A restarted Milvus 2.3 answers with other errors for a while (a flush
// fails with "node not match" until its data node registers), so once the
// server went away every error is retried, and stored files are kept,
// until p.Reconnect has passed in all; the last error is returned then, an
// *InterruptedError when files were stored.
func runReconnecting(ctx context.Context, deps Deps, p Params, start time.Time) (*Result, error) {
	res, err := runLocked(ctx, deps, p, start)
	if p.Reconnect <= 0 || deps.Native != nil || err == nil || !resumable(err) {
		return res, err
	}
	deadline := deps.Now().Add(p.Reconnect)
	p.keepOnError = true
	wait := reconnectFirst
	for err != nil && ctx.Err() == nil {
		var ie *InterruptedError
		if errors.As(err, &ie) {
			p.Resume, p.ResumeID = true, ie.ID
		}
		if !waitForMilvus(ctx, deps, deadline, &wait) {
			return res, err
		}
		what := "starting the backup again (nothing was stored yet)"
		if p.Resume {
			what = fmt.Sprintf("resuming backup %s after its last stored key", p.ResumeID)
		}
		deps.Progress.Note(fmt.Sprintf("Milvus went away or is not ready (%v); it answers again: %s", err, what))
		res, err = runLocked(ctx, deps, p, start)
	}
	return res, err
}

// waitForMilvus waits *wait (doubled after each probe, at most
// reconnectMax) and probes the server (ListDatabases) until it answers; it
// returns false at the deadline or when ctx ends.
func waitForMilvus(ctx context.Context, deps Deps, deadline time.Time, wait *time.Duration) bool {
	for {
		left := deadline.Sub(deps.Now())
		if left <= 0 {
			return false
		}
		t := time.NewTimer(min(*wait, left))
		select {
		case <-ctx.Done():
			t.Stop()
			return false
		case <-t.C:
		}
		*wait = min(2**wait, reconnectMax)
		if _, err := deps.Milvus.ListDatabases(ctx); err == nil {
			return true
		}
	}
}
