package pitr

import (
	"context"
	"errors"
	"fmt"
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
	BackupID string             `json:"backup_id"`
	// From is the timestamp the backup holds every write up to (its
	// snapshot timestamp); writes in (From, At] are replayed.
	From   uint64         `json:"from_ts"`
	At     uint64         `json:"at_ts"`
	Writes int            `json:"writes"` // to replay
	Counts map[string]int `json:"replay"` // by method
	Gaps   []capture.Gap  `json:"gaps,omitempty"`
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
	Skipped    []string // why the backups of the collection were not usable
}

func (e *NoBackupError) Error() string {
	msg := fmt.Sprintf("no backup of %s was completed before %s (hybrid timestamp %d)", e.Collection, capture.WallTime(e.At).Format(time.RFC3339Nano), e.At)
	if len(e.Skipped) > 0 {
		msg += ": " + strings.Join(e.Skipped, "; ")
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
	from, to := capture.WallTime(g.From).Format(time.RFC3339Nano), capture.WallTime(g.To).Format(time.RFC3339Nano)
	if g.From == 0 {
		from = "the beginning"
	}
	if g.To == ^uint64(0) {
		to = "the end of the log"
	}
	s := fmt.Sprintf("(%s, %s] %s", from, to, g.Reason)
	if g.Records > 0 {
		s += fmt.Sprintf(" (%d writes lost)", g.Records)
	}
	return s
}

// MakePlan chooses the backup and reads the writes to replay.
func MakePlan(ctx context.Context, r *repo.Repository, p Params) (*Plan, error) {
	db, coll := splitName(p.Collection)
	if coll == "" || p.At == 0 {
		return nil, errkind.Wrap(errkind.Usage, errors.New("a point-in-time restore needs one collection and a time"))
	}
	if p.Restore.AutoID == restore.AutoIDRegenerate {
		return nil, errkind.Wrap(errkind.Usage, errors.New("a point-in-time restore keeps the primary keys the captured writes refer to: --auto-id regenerate cannot be used"))
	}
	m, err := chooseBackup(ctx, r, db+"."+coll, p.At)
	if err != nil {
		return nil, err
	}
	pl := &Plan{Backup: m, BackupID: m.ID, From: m.Snapshot.Timestamp, At: p.At, Counts: map[string]int{}}
	if pl.From >= pl.At {
		return pl, nil
	}
	// Counted here, replayed by Execute in a second pass: the log is never
	// held in memory.
	res, err := capture.Stream(ctx, r, logQuery(p, pl), func(rec capture.Record) error {
		pl.Counts[rec.Kind.String()]++
		pl.Writes++
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the capture log: %w", err)
	}
	pl.Gaps = res.Gaps
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

// chooseBackup returns the newest backup of ref that holds every write up
// to its snapshot timestamp and none after At: a pinned backup whose
// snapshot is at or before At, or an unpinned one (Milvus 2.3.5) that was
// completed by At, since it may hold writes made while it was read.
func chooseBackup(ctx context.Context, r *repo.Repository, ref string, at uint64) (*manifest.Manifest, error) {
	backups, _, err := r.List(ctx)
	if err != nil {
		return nil, err
	}
	nb := &NoBackupError{Collection: ref, At: at}
	var best *manifest.Manifest
	for _, m := range backups {
		if m.Sealed || !m.Contains(ref) || m.IsNative() {
			continue
		}
		if why := unusable(m, at); why != "" {
			nb.Skipped = append(nb.Skipped, m.ID+": "+why)
			continue
		}
		if best == nil || m.Snapshot.Timestamp > best.Snapshot.Timestamp {
			best = m
		}
	}
	if best == nil {
		return nil, nb
	}
	return best, nil
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
