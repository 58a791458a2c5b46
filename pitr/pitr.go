package pitr

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"

	"github.com/milvault/milvault/capture"
	"github.com/milvault/milvault/errkind"
	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/restore"
)

// Params says what to restore, as of when, and how.
type Params struct {
	// Collection is the source collection, "database.name" or "name" (in
	// the default database).
	Collection string
	// At is the hybrid timestamp to restore to: every captured write with
	// a timestamp up to and including At is applied, none after.
	At uint64
	// AllowGaps restores even when the capture log may miss writes between
	// the backup and At (each gap is reported).
	AllowGaps bool
	// Restore is how the backup is restored (target name, database, load,
	// ...); its Collections and Partitions are set by Run.
	Restore restore.Params
}

// Milvus is what the restore and the replay need of the target server.
type Milvus interface {
	restore.Milvus
	UpsertMessage(ctx context.Context, req *milvuspb.UpsertRequest) (uint64, error)
	DeleteMessage(ctx context.Context, req *milvuspb.DeleteRequest) (uint64, error)
	DropPartition(ctx context.Context, db, coll, partition string) error
	DropIndex(ctx context.Context, db, coll, field, name string) error
}

// Deps are the services Run uses. Restore.Milvus is replaced by Milvus.
type Deps struct {
	Milvus  Milvus
	Repo    *repo.Repository
	Restore restore.Deps
}

// Plan is the backup and the writes to replay.
type Plan struct {
	Backup   *manifest.Manifest `json:"-"`
	BackupID string             `json:"backup_id,omitempty"`
	// BackupCollection is "database.name" of the collection in the backup
	// (an earlier name when it was renamed since).
	BackupCollection string `json:"backup_collection,omitempty"`
	// Created, when Backup is nil, is the captured CreateCollection the
	// restore starts from: the collection was created through the guard
	// and no backup of it is usable, so it is created from its captured
	// request and every captured change since is replayed.
	Created *capture.Record `json:"-"`
	// From is the timestamp the backup holds every write up to (its
	// snapshot timestamp), or the start of a collection restored from its
	// creation; writes in (From, At] are replayed.
	From   uint64         `json:"from_ts"`
	At     uint64         `json:"at_ts"`
	Writes int            `json:"writes"` // to replay
	Counts map[string]int `json:"replay"` // by method
	Gaps   []capture.Gap  `json:"gaps,omitempty"`
	// Notes are events of the collection's history a person should hear
	// about (a move to the trash before At).
	Notes []string `json:"notes,omitempty"`

	lineage *lineage // the names whose writes are replayed, and when
}

// Result reports a point-in-time restore.
type Result struct {
	Plan
	Restore  *restore.Result `json:"restore"`
	Database string          `json:"database"`
	Name     string          `json:"name"`
	Replayed int             `json:"replayed"`
}

// NoBackupError reports that no backup of the collection can be the base
// of a restore to At.
type NoBackupError struct {
	Collection string
	At         uint64
	// Created is when the collection was created anew (0: before the
	// capture log): backups older than that hold an earlier collection.
	Created uint64
	Skipped []string // why the backups of the collection were not usable
}

func (e *NoBackupError) Error() string {
	msg := fmt.Sprintf("no backup of %s was completed before %s (hybrid timestamp %d)", e.Collection, capture.WallTime(e.At).Format(time.RFC3339Nano), e.At)
	if len(e.Skipped) > 0 {
		msg += ": " + strings.Join(e.Skipped, "; ")
	}
	if e.Created != 0 {
		return msg + fmt.Sprintf("; %s was created anew at %s (the capture log holds its schema change), and a restore starts from a backup of the new collection: take one (milvault backup -c %s), then restore to a time after it, or restore to a time before the old collection was dropped", e.Collection, wallText(e.Created), e.Collection)
	}
	return msg + "; take backups regularly while the guard captures, or choose a later time"
}

// Kind classifies the error for exit codes.
func (*NoBackupError) Kind() errkind.Kind { return errkind.NotFound }

// GapError reports that the capture log may miss writes that a restore to
// At needs.
type GapError struct {
	Collection string
	Gaps       []capture.Gap
}

func (e *GapError) Error() string {
	var parts []string
	for _, g := range e.Gaps {
		parts = append(parts, describeGap(g))
	}
	return fmt.Sprintf("the capture log may miss writes of %s between the backup and the chosen time: %s; restore to a time outside these gaps, or pass --allow-gaps to restore anyway",
		e.Collection, strings.Join(parts, "; "))
}

// Kind classifies the error for exit codes.
func (*GapError) Kind() errkind.Kind { return errkind.Conflict }

func describeGap(g capture.Gap) string {
	from, to := g.Bounds()
	s := fmt.Sprintf("(%s, %s] %s", from, to, g.Reason)
	if g.Records > 0 {
		s += fmt.Sprintf(" (%d writes lost)", g.Records)
	}
	return s
}

// MakePlan chooses the backup and reads the writes to replay. It follows
// the collection through the schema and namespace changes the guard
// captured: writes made under an earlier name are replayed too, a
// collection dropped before At is a *DroppedError, and a collection
// created again after a backup is restored from a backup of the new one,
// or, when there is none, from its captured creation and every change
// since.
func MakePlan(ctx context.Context, r *repo.Repository, p Params) (*Plan, error) {
	db, coll := splitName(p.Collection)
	if coll == "" || p.At == 0 {
		return nil, errkind.Wrap(errkind.Usage, errors.New("a point-in-time restore needs one collection and a time"))
	}
	if p.Restore.AutoID == restore.AutoIDRegenerate {
		return nil, errkind.Wrap(errkind.Usage, errors.New("a point-in-time restore keeps the primary keys the captured writes refer to: --auto-id regenerate cannot be used"))
	}
	hist, err := capture.History(ctx, r, p.At)
	if err != nil {
		return nil, fmt.Errorf("read the capture log: %w", err)
	}
	lin, err := resolve(hist, db, coll, p.At)
	if err != nil {
		return nil, err
	}
	m, base, err := chooseBackup(ctx, r, db+"."+coll, lin, p.At)
	var nb *NoBackupError
	pl := &Plan{At: p.At, Counts: map[string]int{}, Notes: lin.Notes, lineage: lin}
	switch {
	case errors.As(err, &nb) && lin.Created != nil:
		// Created through the guard and not backed up since: the
		// captured creation is the base.
		pl.Created, pl.From = lin.Created, lin.Floor
	case err != nil:
		return nil, err
	default:
		pl.Backup, pl.BackupID, pl.BackupCollection, pl.From = m, m.ID, base.ref(), m.Snapshot.Timestamp
	}
	if pl.From >= pl.At {
		return pl, nil
	}
	// Counted here, replayed by Execute in a second pass: the log is never
	// held in memory.
	res, err := streamPlan(ctx, r, pl, func(capture.Record) error {
		pl.Writes++
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the capture log: %w", err)
	}
	pl.Gaps = res.Gaps
	if pl.Created != nil {
		// A guard captured the creation, so the collection was created
		// after capture started (and after any pruning): the log's start
		// misses none of its writes.
		pl.Gaps = slices.DeleteFunc(pl.Gaps, capture.Gap.Start)
	}
	if len(pl.Gaps) > 0 && !p.AllowGaps {
		return pl, &GapError{Collection: db + "." + coll, Gaps: pl.Gaps}
	}
	return pl, nil
}

// splitName reads "database.name" or "name".
func splitName(ref string) (db, coll string) {
	if d, c, ok := strings.Cut(ref, "."); ok {
		return d, c
	}
	return "default", ref
}

// chooseBackup returns the newest backup of the collection (under the
// name it had at the backup's snapshot) that holds every write up to its
// snapshot timestamp and none after At: a pinned backup whose snapshot is
// at or before At, or an unpinned one (Milvus 2.3.5) that was completed by
// At, since it may hold writes made while it was read. A backup taken
// before the collection was created (lin.Born) holds an earlier
// collection of that name and is not used.
func chooseBackup(ctx context.Context, r *repo.Repository, ref string, lin *lineage, at uint64) (*manifest.Manifest, span, error) {
	backups, _, err := r.List(ctx)
	if err != nil {
		return nil, span{}, err
	}
	nb := &NoBackupError{Collection: ref, At: at, Created: lin.Born}
	var best *manifest.Manifest
	var base span
	for _, m := range backups {
		if m.Sealed || m.IsNative() {
			continue
		}
		s, ok := lin.spanAt(m.Snapshot.Timestamp)
		if m.Snapshot.Timestamp > at {
			s, ok = lin.Spans[0], true // unusable says why
		}
		if !ok || !m.Contains(s.ref()) {
			if why := earlier(m, lin); why != "" {
				nb.Skipped = append(nb.Skipped, m.ID+": "+why)
			}
			continue
		}
		if why := unusable(m, at); why != "" {
			nb.Skipped = append(nb.Skipped, m.ID+": "+why)
			continue
		}
		if best == nil || m.Snapshot.Timestamp > best.Snapshot.Timestamp {
			best, base = m, s
		}
	}
	if best == nil {
		return nil, span{}, nb
	}
	return best, base, nil
}

// earlier says why a backup that holds one of the collection's names was
// skipped because it holds an earlier collection of that name.
func earlier(m *manifest.Manifest, lin *lineage) string {
	for _, s := range lin.Spans {
		if m.Contains(s.ref()) && m.Snapshot.Timestamp <= lin.Born {
			return fmt.Sprintf("it holds the earlier collection %s, which was dropped or replaced before %s", s.ref(), wallText(lin.Born))
		}
	}
	return ""
}

// unusable says why m cannot be the base of a restore to at ("" when it
// can).
func unusable(m *manifest.Manifest, at uint64) string {
	switch {
	case m.Snapshot.Timestamp == 0:
		return "it records no snapshot timestamp"
	case m.Snapshot.Timestamp > at:
		return "taken after that time"
	case !m.Snapshot.Pinned && capture.HybridTS(m.CompletedAt) > at:
		return "still being read at that time (an unpinned backup may hold later writes)"
	}
	return ""
}
