package retention

import (
	"context"
	"time"

	"github.com/milvault/milvault/capture"
	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/repo"
)

// CaptureOptions configure PruneCapture.
type CaptureOptions struct {
	// KeepWithin keeps every capture segment holding a record younger
	// than this (0: only what the backups need is kept).
	KeepWithin time.Duration
	Now        time.Time
	DryRun     bool
}

// CaptureNeeds returns, per collection ("database.name"), the oldest
// snapshot timestamp among the backups in retained that a point-in-time
// restore can start from (logical, not sealed, with a snapshot
// timestamp): such a restore replays the collection's captured writes
// after it. Collections without such a backup are absent.
func CaptureNeeds(retained []*manifest.Manifest) map[string]uint64 {
	needs := map[string]uint64{}
	for _, m := range retained {
		ts := m.Snapshot.Timestamp
		if m.Sealed || m.IsNative() || ts == 0 {
			continue
		}
		for _, c := range m.Collections {
			name := c.QualifiedName()
			if old, ok := needs[name]; !ok || ts < old {
				needs[name] = ts
			}
		}
	}
	return needs
}

// PruneCapture deletes the segments of the capture log (package capture)
// that no backup of retained needs: those whose every record is older
// than the oldest retained backup of its collection and than the keep
// window. Segments holding writes of a collection without a usable backup
// are kept. It runs under the repository's exclusive lock (held, or its
// own), except for a dry run, and needs the repository's key to read an
// encrypted log.
func PruneCapture(ctx context.Context, r *repo.Repository, held *repo.Lock, retained []*manifest.Manifest, o CaptureOptions) (*capture.PruneResult, error) {
	if err := r.NeedKey("prune the capture log"); err != nil {
		return nil, err
	}
	if !o.DryRun {
		_, lctx, release, err := r.Hold(ctx, held, repo.LockOptions{Exclusive: true, Operation: "prune capture log"})
		if err != nil {
			return nil, err
		}
		defer release()
		ctx = lctx
	}
	p := capture.PrunePolicy{Needed: CaptureNeeds(retained), DryRun: o.DryRun}
	if o.KeepWithin > 0 {
		p.KeepAfter = capture.HybridTS(o.Now.Add(-o.KeepWithin))
	}
	return capture.Prune(ctx, r, p)
}

// Retained returns the backups of all that plan keeps or does not judge.
func Retained(all []*manifest.Manifest, plan []Verdict) []*manifest.Manifest {
	removed := map[string]bool{}
	for _, v := range plan {
		if !v.Keep {
			removed[v.Manifest.ID] = true
		}
	}
	var out []*manifest.Manifest
	for _, m := range all {
		if !removed[m.ID] {
			out = append(out, m)
		}
	}
	return out
}
