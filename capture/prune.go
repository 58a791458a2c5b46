package capture

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/milvault/milvault/repo"
)

// pruneMarkName is the file, in a guard's folder, that describes the
// guard's pruned segments.
const pruneMarkName = "pruned.json"

// pruneMark is capture/<guard-id>/pruned.json: what the deleted first
// segments of a guard held, so that readers start where they end. Prune
// writes it before deleting, so a reader never meets a pruned prefix
// without it.
type pruneMark struct {
	// Through is the number of the last pruned segment (1 to Through are
	// gone).
	Through uint64 `json:"through_seq"`
	// Last, Running and Earliest are the walk's state after segment
	// Through: newest timestamp, whether a run was open, and where the
	// guard's coverage started (MaxUint64: no run opened).
	Last     uint64 `json:"last_ts"`
	Running  bool   `json:"running"`
	Earliest uint64 `json:"earliest_ts"`
	// Collections holds, per "database.collection", the newest timestamp
	// of its pruned records: its writes up to there may be missing.
	Collections map[string]uint64 `json:"collections"`
}

func pruneMarkPath(guard string) string { return repo.CapturePrefix + guard + "/" + pruneMarkName }

// readPruneMark returns the guard's prune mark, nil when none.
func readPruneMark(ctx context.Context, st Store, guard string) (*pruneMark, error) {
	data, err := st.ReadCaptureFile(ctx, pruneMarkPath(guard))
	if errors.Is(err, repo.ErrNotFound) {
		return nil, nil
	}
	var m pruneMark
	if err == nil {
		err = json.Unmarshal(data, &m)
	}
	if err != nil {
		return nil, fmt.Errorf("read the prune mark of guard %s: %w", guard, err)
	}
	return &m, nil
}

// horizon is the newest pruned timestamp of q's collections (0: none of
// their records was pruned).
func (m *pruneMark) horizon(q Query) uint64 {
	var h uint64
	for name, ts := range m.Collections {
		if q.matches(Record{Database: dbOf(name), Collection: collOf(name)}) {
			h = max(h, ts)
		}
	}
	return h
}

func qualified(db, coll string) string { return db + "." + coll }

func dbOf(name string) string {
	for i := 0; i < len(name); i++ {
		if name[i] == '.' {
			return name[:i]
		}
	}
	return ""
}

func collOf(name string) string { return name[len(dbOf(name))+1:] }

// PruneStore is a Store that can delete segments.
type PruneStore interface {
	Store
	DeleteCaptureFile(ctx context.Context, name string) error
}

// PrunePolicy says which records a prune must keep.
type PrunePolicy struct {
	// Needed maps "database.collection" to the oldest snapshot timestamp
	// of a retained backup of it: a point-in-time restore replays its
	// writes after that. A collection missing from Needed (no usable
	// backup) keeps every record.
	Needed map[string]uint64
	// KeepAfter keeps every record at or after this hybrid timestamp (the
	// keep window; 0: none).
	KeepAfter uint64
	// DryRun reports what would go and deletes nothing.
	DryRun bool
}

// PruneResult lists the segments a prune deleted (or would delete).
type PruneResult struct {
	Segments []Segment `json:"segments"`
	Bytes    int64     `json:"bytes"`
}

// Prune deletes, guard by guard, the first segments whose every record
// the policy no longer needs, stopping at the first one it needs, at an
// unreadable one and before the guard's newest one (which numbers its
// next segment). It writes the guard's prune mark first and then deletes,
// so that an interrupted prune leaves segments the mark already covers,
// which readers skip and the next prune deletes. The caller holds the
// repository's exclusive lock.
func Prune(ctx context.Context, st PruneStore, p PrunePolicy) (*PruneResult, error) {
	segs, err := ListSegments(ctx, st)
	if err != nil {
		return nil, err
	}
	lr, err := openLog(ctx, st, Query{}, func(Gap) bool { return false })
	if err != nil {
		return nil, err
	}
	defer lr.close()
	res := &PruneResult{Segments: []Segment{}}
	for _, g := range lr.guards {
		if err := pruneGuard(ctx, st, lr, g, segs, p, res); err != nil {
			return res, err
		}
	}
	return res, nil
}

func pruneGuard(ctx context.Context, st PruneStore, lr *logReader, g *guardLog, all []Segment, p PrunePolicy, res *PruneResult) error {
	var gone []Segment
	for _, s := range all { // left by an interrupted prune
		if s.Guard == g.id && g.mark != nil && s.Seq <= g.mark.Through {
			gone = append(gone, s)
		}
	}
	mark := g.mark
	if mark == nil {
		mark = &pruneMark{Earliest: math.MaxUint64}
	}
	if mark.Collections == nil {
		mark.Collections = map[string]uint64{}
	}
	advanced := false
	for g.next < len(g.segs)-1 {
		s, recs, ok, err := g.read(ctx, lr)
		if err != nil {
			return err
		}
		if !ok || !p.unneeded(recs) {
			break
		}
		mark.Through, mark.Last, mark.Running, mark.Earliest = s.Seq, g.w.last, g.w.running, g.w.earliest
		for _, r := range recs {
			if r.Collection != "" {
				k := qualified(r.Database, r.Collection)
				mark.Collections[k] = max(mark.Collections[k], r.TS)
			}
		}
		gone, advanced = append(gone, s), true
	}
	for _, s := range gone {
		res.Segments = append(res.Segments, s)
		res.Bytes += s.Size
	}
	if p.DryRun || len(gone) == 0 {
		return nil
	}
	if advanced {
		data, err := json.Marshal(mark)
		if err != nil {
			return err
		}
		if err := st.PutCaptureState(ctx, pruneMarkPath(g.id), data); err != nil {
			return fmt.Errorf("prune the capture log of guard %s: %w", g.id, err)
		}
	}
	for _, s := range gone {
		if err := st.DeleteCaptureFile(ctx, s.Name); err != nil {
			return fmt.Errorf("prune the capture log of guard %s: %w", g.id, err)
		}
	}
	return nil
}

// unneeded reports whether no record of recs is needed: every one older
// than the keep window and than the oldest retained backup of its
// collection; a record of no collection (a run's open or close, a gap)
// older than the oldest retained backup of every collection.
func (p PrunePolicy) unneeded(recs []Record) bool {
	oldest := uint64(math.MaxUint64)
	for _, ts := range p.Needed {
		oldest = min(oldest, ts)
	}
	if len(p.Needed) == 0 {
		return false
	}
	for _, r := range recs {
		if p.KeepAfter > 0 && r.TS >= p.KeepAfter {
			return false
		}
		need, ok := oldest, true
		if r.Collection != "" {
			need, ok = p.Needed[qualified(r.Database, r.Collection)]
		}
		if !ok || r.TS >= need || r.Kind == KindGap && r.Gap.To >= oldest {
			return false
		}
	}
	return true
}
