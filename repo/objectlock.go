package repo

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/milvault/milvault/errkind"
	"github.com/milvault/milvault/manifest"
)

// Object-lock modes. Governance and compliance are S3 Object Lock's modes
// (an S3 user with s3:BypassGovernanceRetention can still remove a
// governance-mode object early; nobody can remove a compliance-mode one).
// A local repository makes its files read-only in either mode and
// milvault itself refuses to remove them early.
const (
	LockGovernance = "governance"
	LockCompliance = "compliance"
)

// ObjectLock is the repository's retention policy, recorded in config.json
// at init: every file milvault writes, except the short-lived lock files and
// pending markers (which must stay removable), is kept for Retention after
// it is written.
type ObjectLock struct {
	Mode string `json:"mode"`
	// RetentionSeconds is the retention period.
	RetentionSeconds int64 `json:"retention_seconds"`
}

// Retention returns the retention period.
func (o *ObjectLock) Retention() time.Duration {
	return time.Duration(o.RetentionSeconds) * time.Second
}

// ParseObjectLock reads an --object-lock value: a retention period (Go
// duration or a number of days followed by d, such as 30d) with an
// optional mode prefix, "compliance:30d" or "governance:24h"; the mode
// defaults to governance.
func ParseObjectLock(s string) (*ObjectLock, error) {
	mode, period, found := strings.Cut(s, ":")
	if !found {
		mode, period = LockGovernance, s
	}
	if mode != LockGovernance && mode != LockCompliance {
		return nil, errkind.New(errkind.Usage, "object lock %q: the mode must be governance or compliance (such as compliance:30d)", s)
	}
	d, err := parsePeriod(period)
	if err != nil || d < time.Second {
		return nil, errkind.New(errkind.Usage, "object lock %q: give a retention period of at least 1s, such as 30d or 24h", s)
	}
	return &ObjectLock{Mode: mode, RetentionSeconds: int64(d / time.Second)}, nil
}

func parsePeriod(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		var n int64
		if _, err := fmt.Sscanf(days, "%d", &n); err != nil || fmt.Sprint(n) != days {
			return 0, fmt.Errorf("bad number of days %q", days)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}

// Retain is the retention a store gives the file of one Put.
type Retain struct {
	Mode  string    // LockGovernance or LockCompliance
	Until time.Time // the file cannot be removed or replaced before
}

type retainKey struct{}

// WithRetain returns a context whose Puts store their file under retention
// rt. The retention travels in the context, not as a Store method, so that
// every store wrapper (retries, limits, logging) acts on the Put as on any
// other.
func WithRetain(ctx context.Context, rt Retain) context.Context {
	return context.WithValue(ctx, retainKey{}, rt)
}

// RetainOf returns the retention a Put with ctx must set, if any. Stores
// that can keep files under retention (S3 Object Lock, read-only local
// files) honour it.
func RetainOf(ctx context.Context) (Retain, bool) {
	rt, ok := ctx.Value(retainKey{}).(Retain)
	return rt, ok
}

// retained returns ctx carrying the repository's retention for a file
// written now, or ctx unchanged when the repository sets none.
func (r *Repository) retained(ctx context.Context) context.Context {
	ol := r.cfg.ObjectLock
	if ol == nil {
		return ctx
	}
	return WithRetain(ctx, Retain{Mode: ol.Mode, Until: r.now().UTC().Add(ol.Retention())})
}

// RetainedError reports a backup that the repository's object lock still
// protects.
type RetainedError struct {
	ID    string
	Mode  string
	Until time.Time
	Now   time.Time
}

func (e *RetainedError) Error() string {
	return fmt.Sprintf("backup %s is under object lock (%s) until %s: it can be deleted from then on (in %s); nothing was removed",
		e.ID, e.Mode, e.Until.UTC().Format(time.RFC3339), e.Until.Sub(e.Now).Round(time.Minute))
}

// Kind classifies the error as a conflict.
func (*RetainedError) Kind() errkind.Kind { return errkind.Conflict }

// DeletableAt returns when every file of backup id leaves the repository's
// retention (the zero time when the repository sets none). Each file is
// retained for the period from when it was written, so this is the newest
// file's time plus the period; for S3 that is a little later than the
// retention the objects carry (set when their upload began), never earlier.
func (r *Repository) DeletableAt(ctx context.Context, id string) (time.Time, error) {
	ol := r.cfg.ObjectLock
	if ol == nil {
		return time.Time{}, nil
	}
	files, err := r.BackupFiles(ctx, id)
	if err != nil {
		return time.Time{}, fmt.Errorf("check retention of %s: %w", id, err)
	}
	var newest time.Time
	for _, f := range files {
		if f.ModTime.After(newest) {
			newest = f.ModTime
		}
	}
	if newest.IsZero() {
		return time.Time{}, nil
	}
	return newest.UTC().Add(ol.Retention()).Truncate(time.Second).Add(time.Second), nil
}

// CheckDeletable returns a *RetainedError when backup id is still under the
// repository's retention, and nil when it may be removed.
func (r *Repository) CheckDeletable(ctx context.Context, id string) error {
	until, err := r.DeletableAt(ctx, id)
	if err != nil {
		return err
	}
	if now := r.now().UTC(); until.After(now) {
		return &RetainedError{ID: id, Mode: r.cfg.ObjectLock.Mode, Until: until, Now: now}
	}
	return nil
}

// BackupFiles lists every file that deleting backup id removes: its
// manifest, its data files and its proofs.
func (r *Repository) BackupFiles(ctx context.Context, id string) ([]FileInfo, error) {
	var out []FileInfo
	for _, prefix := range []string{manifest.Path(id), manifest.DataPrefix(id), proofPrefix(id)} {
		files, err := r.store.List(ctx, prefix)
		if err != nil {
			return nil, fmt.Errorf("list files of backup %s: %w", id, err)
		}
		for _, f := range files {
			if prefix != manifest.Path(id) || f.Name == prefix {
				out = append(out, f)
			}
		}
	}
	return out, nil
}
