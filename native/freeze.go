package native

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Flusher is what a freeze asks of Milvus (*milvus.Client has it).
type Flusher interface {
	ListCollections(ctx context.Context, db string) ([]string, error)
	Flush(ctx context.Context, db, coll string) (uint64, error)
}

// FreezeParams say what to freeze and for how long.
type FreezeParams struct {
	Database    string   // "" means "default"
	Collections []string // empty: every collection of Database
	// For bounds the garbage-collection pause: the server resumes GC by
	// itself after it, whether or not Thaw is called.
	For time.Duration
}

// FreezeResult reports a freeze.
type FreezeResult struct {
	Flushed []string `json:"flushed"`
	// Timestamp is the latest flush timestamp (a Milvus hybrid timestamp):
	// a storage snapshot taken now holds every row written before it.
	Timestamp uint64    `json:"flush_timestamp"`
	GCPaused  bool      `json:"gc_paused"`
	GC        string    `json:"gc"`              // "paused until ..." or why not
	Until     time.Time `json:"until,omitempty"` // when the pause expires by itself
}

// Freeze prepares Milvus for a storage-level snapshot (a volume snapshot
// of its object storage): it flushes the selected collections, so that
// their data is in sealed segment files, then pauses garbage collection for
// p.For, so that no segment file is removed while the snapshot is taken.
// The pause is never renewed: a freeze that is not thawed expires by
// itself. A server without the pause API (Milvus 2.3.5) is frozen by the
// flush only, and the result says so.
func Freeze(ctx context.Context, c Flusher, gc *GCPauser, p FreezeParams) (*FreezeResult, error) {
	if p.For <= 0 {
		return nil, errors.New("freeze needs a positive duration (--for)")
	}
	db := p.Database
	if db == "" {
		db = "default"
	}
	names := p.Collections
	if len(names) == 0 {
		var err error
		if names, err = c.ListCollections(ctx, db); err != nil {
			return nil, err
		}
	}
	res := &FreezeResult{}
	for _, n := range names {
		ts, err := c.Flush(ctx, db, n)
		if err != nil {
			return nil, fmt.Errorf("freeze: %w", err)
		}
		res.Flushed = append(res.Flushed, db+"."+n)
		res.Timestamp = max(res.Timestamp, ts)
	}
	pauseFor(ctx, gc, p.For, res)
	return res, nil
}

func pauseFor(ctx context.Context, gc *GCPauser, d time.Duration, res *FreezeResult) {
	if gc == nil {
		res.GC = "not paused (no metrics URL)"
		return
	}
	if err := gc.Pause(ctx, d); err != nil {
		res.GC = "not paused: " + err.Error()
		return
	}
	res.GCPaused, res.Until = true, time.Now().Add(d).UTC()
	res.GC = "paused until " + res.Until.Format(time.RFC3339)
}

// Thaw resumes garbage collection paused by Freeze.
func Thaw(ctx context.Context, gc *GCPauser) error {
	if gc == nil {
		return errors.New("thaw needs the Milvus metrics URL (--milvus-metrics, not none)")
	}
	return gc.Resume(ctx)
}
