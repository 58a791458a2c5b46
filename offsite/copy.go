// Package offsite copies committed backups to another repository (another
// disk, bucket or region), so that a backup outlives the place it was taken.
package offsite

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/progress"
	"github.com/milvault/milvault/repo"
)

// Options configure a copy.
type Options struct {
	Progress progress.Progress // nil means none; Copy does not call Done (whoever made the sink does)
	// LockWait is how long to wait for another operation's lock on the
	// destination or the source.
	LockWait time.Duration
	// DstLock, when set, is an exclusive lock on the destination that the
	// caller holds; otherwise Copy takes its own.
	DstLock *repo.Lock
	// SrcLock, when set, is a lock on the source that the caller holds;
	// otherwise Copy takes a shared one, so that no prune or delete removes
	// the files it reads (a source that is the destination is covered by
	// the destination's lock).
	SrcLock *repo.Lock
	// SkipReadBack trusts the destination's atomic Put and its reported
	// size instead of re-reading every written file to compare checksums.
	SkipReadBack bool
	// SpoolDir holds one file at a time between source and destination;
	// "" means the destination's own spool directory (a local
	// repository's folder, so the file is linked into place rather than
	// copied again), else os.TempDir().
	SpoolDir string
}

// Result describes a finished copy.
type Result struct {
	BackupID string `json:"backup_id"`
	// AlreadyCommitted is true when the destination had the backup
	// already; nothing was written.
	AlreadyCommitted bool          `json:"already_committed"`
	Copied           int           `json:"copied_files"`
	Present          int           `json:"present_files"` // found intact at the destination
	Bytes            int64         `json:"copied_bytes"`
	Duration         time.Duration `json:"duration_ns"`
	// Capture counts the capture log files (milvault guard) carried with
	// the backup.
	Capture CaptureCopy `json:"capture"`
}

// SourceDamagedError reports a source file whose content does not match
// the manifest; nothing of it is written to the destination.
type SourceDamagedError struct {
	BackupID, Path, Problem string
}

func (e *SourceDamagedError) Error() string {
	return fmt.Sprintf("backup %s is damaged at the source: %s: %s", e.BackupID, e.Path, e.Problem)
}

// Copy copies the committed backup m from src to dst, under dst's
// exclusive lock and a shared lock on src. Every file is checked against
// the manifest's checksum on its way (a damaged source is never copied)
// and, unless SkipReadBack, read back from dst and checked again. The manifest is written last, so the
// backup appears in dst only complete. Copy is idempotent and resumable:
// files already at dst are kept when their size and checksum match, and a
// backup already committed at dst is left alone. Then the capture log
// of milvault guard is carried too (its new segments), so that a
// point-in-time restore works from dst.
//
// An interrupted copy leaves its files and a pending marker at dst; a rerun
// continues it. A backup into dst run meanwhile removes them as leftovers
// (the rerun then copies everything again).
func Copy(ctx context.Context, src, dst *repo.Repository, m *manifest.Manifest, o Options) (*Result, error) {
	if o.Progress == nil {
		o.Progress = progress.Nop
	}
	if err := repo.CheckCopy(src, dst); err != nil {
		return nil, err
	}
	start := time.Now()
	lctx, unlock, err := lockBoth(ctx, src, dst, m.ID, &o)
	if err != nil {
		return nil, err
	}
	defer unlock()
	res, err := copyLocked(lctx, src, dst, m, o)
	if err == nil {
		res.Capture, err = copyCapture(lctx, src, dst, o)
	}
	if err != nil && lctx.Err() != nil && ctx.Err() == nil {
		err = fmt.Errorf("copy stopped: %w", context.Cause(lctx))
	}
	if res != nil {
		res.Duration = time.Since(start)
	}
	return res, err
}

// lockBoth holds dst exclusively and src shared (or the callers' locks),
// with backup id still committed in src, setting o.DstLock and o.SrcLock to
// the locks held.
func lockBoth(ctx context.Context, src, dst *repo.Repository, id string, o *Options) (context.Context, func(), error) {
	dl, dctx, dunlock, err := dst.Hold(ctx, o.DstLock, repo.LockOptions{Exclusive: true, Operation: "copy", Wait: o.LockWait})
	if err != nil {
		return nil, nil, err
	}
	if o.SrcLock == nil && dl.On(src) {
		o.SrcLock = dl
	}
	sl, sctx, sunlock, err := src.HoldBackup(dctx, o.SrcLock, repo.LockOptions{Operation: "copy", Wait: o.LockWait}, id)
	if err != nil {
		dunlock()
		return nil, nil, err
	}
	o.DstLock, o.SrcLock = dl, sl
	return sctx, func() { sunlock(); dunlock() }, nil
}

func copyLocked(ctx context.Context, src, dst *repo.Repository, m *manifest.Manifest, o Options) (*Result, error) {
	res := &Result{BackupID: m.ID}
	if _, err := dst.Find(ctx, m.ID); err == nil {
		res.AlreadyCommitted = true
		return res, nil
	} else if !isNotFound(err) {
		return nil, err
	}
	if m.Name != "" && dst.Unlocked() {
		if err := dst.CheckNameFree(ctx, m.Name); err != nil {
			return nil, err
		}
	}
	stop, err := dst.Begin(ctx, o.DstLock, m.ID)
	if err != nil {
		return nil, err
	}
	defer stop()
	o.Progress.Phase("copy "+m.ID, 0, m.TotalBytes())
	for _, f := range m.Files() {
		copied, err := copyFile(ctx, src, dst, m.ID, f, o)
		if err != nil {
			return nil, err
		}
		if copied {
			res.Copied++
			res.Bytes += f.Size
		} else {
			res.Present++
			o.Progress.Bytes(f.Size)
		}
	}
	stop()
	committed := *m // Commit must not touch the caller's manifest
	if err := dst.CommitCopy(ctx, src, &committed); err != nil {
		return nil, err
	}
	return res, nil
}

func isNotFound(err error) bool {
	var nf *repo.BackupNotFoundError
	return errors.As(err, &nf)
}

// copyFile copies f unless dst already holds it intact; it reports whether
// it wrote anything.
func copyFile(ctx context.Context, src, dst *repo.Repository, id string, f manifest.File, o Options) (bool, error) {
	if present, err := intact(ctx, dst, f); err != nil || present {
		return false, err
	}
	err := dst.CopyFile(ctx, src, f, o.SpoolDir, progress.BytesWriter(o.Progress))
	var ce *repo.ContentError
	if errors.As(err, &ce) {
		return false, &SourceDamagedError{BackupID: id, Path: f.Path, Problem: ce.Problem}
	}
	if err != nil {
		return false, err
	}
	return true, confirm(ctx, dst, f, o)
}

// intact reports whether dst holds f with its size and checksum.
func intact(ctx context.Context, dst *repo.Repository, f manifest.File) (bool, error) {
	fi, err := dst.StatFile(ctx, f.Path)
	if errors.Is(err, repo.ErrNotFound) || err == nil && fi.Size != f.Size {
		return false, nil
	}
	if err == nil {
		err = dst.ReadFile(ctx, f, nil)
	}
	var ce *repo.ContentError
	if errors.As(err, &ce) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("check %s at the destination: %w", f.Path, err)
	}
	return true, nil
}

// confirm checks a file just written to the destination: by reading it
// back, or (SkipReadBack) by its size, relying on the store's atomic Put
// for the content it was given.
func confirm(ctx context.Context, dst *repo.Repository, f manifest.File, o Options) error {
	if o.SkipReadBack {
		fi, err := dst.StatFile(ctx, f.Path)
		if err == nil && fi.Size != f.Size {
			err = fmt.Errorf("it has %d bytes, expected %d", fi.Size, f.Size)
		}
		if err != nil {
			return fmt.Errorf("confirm %s at the destination: %w", f.Path, err)
		}
		return nil
	}
	err := dst.ReadFile(ctx, f, nil)
	var ce *repo.ContentError
	if errors.As(err, &ce) {
		err = errors.New(ce.Problem)
	}
	if err != nil {
		return fmt.Errorf("read back %s from the destination: %w", f.Path, err)
	}
	return nil
}
