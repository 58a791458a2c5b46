package repo

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Lock is a held repository lock. It is refreshed in the background until
// Unlock.
//
// A Lock is a value that travels with the operation holding it: functions
// that need a held lock take it as a parameter (or a Deps field) and check
// it with Repository.Hold. Nothing is looked up on the Repository, so two
// operations in one process exclude each other exactly as two processes do.
type Lock struct {
	r      *Repository
	info   LockInfo
	opts   LockOptions
	ctx    context.Context // ends when the lock is lost or released
	cancel context.CancelCauseFunc
	stop   chan struct{}
	done   chan struct{}
	once   sync.Once

	// mu is held for a whole refresh (check, then rewrite) and by Unlock
	// while it marks the lock stopped, so that no refresh rewrites the file
	// once Unlock has decided to remove it.
	mu      sync.Mutex
	stopped bool
}

// Info describes the lock as it was acquired.
func (l *Lock) Info() LockInfo { return l.info }

// start begins refreshing and returns the context that ends when the lock
// is lost or released.
func (l *Lock) start(ctx context.Context, o LockOptions) context.Context {
	lctx, cancel := context.WithCancelCause(ctx)
	l.opts, l.ctx = o, lctx
	l.cancel, l.stop, l.done = cancel, make(chan struct{}), make(chan struct{})
	go l.refresh(lctx, o)
	return lctx
}

// refresh rewrites the lock file every RefreshEvery. When the file has been
// removed, or could not be rewritten for so long that others may consider
// it stale, it cancels the lock's context with ErrLockLost.
func (l *Lock) refresh(ctx context.Context, o LockOptions) {
	defer close(l.done)
	t := time.NewTicker(o.RefreshEvery)
	defer t.Stop()
	last := l.info.Refreshed
	for {
		select {
		case <-l.stop:
			return
		case <-ctx.Done():
			return
		case <-t.C:
		}
		refreshed, err := l.refreshOnce(ctx)
		switch {
		case errors.Is(err, errStopped):
			return
		case errors.Is(err, ErrNotFound):
			l.cancel(fmt.Errorf("%w: %s was removed (by `milvault unlock`?)", ErrLockLost, l.info.Name))
			return
		case err == nil:
			last = refreshed
		case l.r.now().Sub(last) > o.StaleAfter-o.RefreshEvery:
			l.cancel(fmt.Errorf("%w: could not refresh %s since %s: %v", ErrLockLost, l.info.Name, last.Format(time.RFC3339), err))
			return
		}
	}
}

// errStopped tells refresh that Unlock has begun; nothing was written.
var errStopped = errors.New("lock is being released")

// refreshOnce rewrites the lock file with a new refresh time, unless it was
// removed or Unlock has begun. l.info keeps the time of acquisition, so it
// is never written concurrently.
//
// The check and the rewrite are two store calls: a lock file removed by
// another process (`milvault unlock --remove-all`) exactly between them is
// written back once, and its loss is noticed only if it is removed again.
// Stores offer no conditional write to close that window; Unlock, which is
// in this process, never races a refresh.
func (l *Lock) refreshOnce(ctx context.Context) (time.Time, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stopped {
		return time.Time{}, errStopped
	}
	if _, err := l.r.store.Stat(ctx, l.info.Name); err != nil {
		return time.Time{}, err
	}
	info := l.info
	info.Refreshed = l.r.now().UTC()
	return info.Refreshed, l.r.writeLock(ctx, info)
}

// Unlock stops refreshing and removes the lock file. It first waits for a
// refresh under way and for the refresher to exit, so that the file it
// removes is never written back. It is safe to call more than once; the
// lock's context is cancelled.
func (l *Lock) Unlock() error {
	var err error
	l.once.Do(func() {
		l.mu.Lock()
		l.stopped = true
		l.mu.Unlock()
		close(l.stop)
		<-l.done
		l.cancel(errReleased)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if derr := l.r.store.Delete(ctx, l.info.Name); derr != nil {
			err = fmt.Errorf("release lock %s: %w", l.info.Name, derr)
		}
	})
	return err
}

// errReleased is the cause of a lock context's cancellation by Unlock.
var errReleased = errors.New("repository lock released")

// Hold returns the lock an operation runs under. When held is nil it takes a
// new lock with o and release unlocks it; otherwise held must be a live lock
// on r (exclusive when o.Exclusive), which is returned as it is with ctx and
// a release that does nothing: its taker releases it.
func (r *Repository) Hold(ctx context.Context, held *Lock, o LockOptions) (*Lock, context.Context, func(), error) {
	if held != nil {
		if err := held.check(r, o.Exclusive); err != nil {
			return nil, nil, nil, fmt.Errorf("%s: %w", o.Operation, err)
		}
		return held, ctx, func() {}, nil
	}
	l, lctx, err := r.Lock(ctx, o)
	if err != nil {
		return nil, nil, nil, err
	}
	return l, lctx, func() { _ = l.Unlock() }, nil
}

// HoldBackup is Hold for an operation that reads backup id. Once the lock
// is held it checks that the backup is still committed: a backup found
// before the lock was taken may have been deleted meanwhile by a prune or
// delete that held the exclusive lock, and reading it then would report
// its missing files as damage. Such a backup is a *BackupNotFoundError.
func (r *Repository) HoldBackup(ctx context.Context, held *Lock, o LockOptions, id string) (*Lock, context.Context, func(), error) {
	l, lctx, release, err := r.Hold(ctx, held, o)
	if err != nil {
		return nil, nil, nil, err
	}
	if _, err := r.Find(lctx, id); err != nil {
		release()
		return nil, nil, nil, fmt.Errorf("%s: %w", o.Operation, err)
	}
	return l, lctx, release, nil
}

// Stopped explains err, the failure of operation op run under l: when l was
// lost meanwhile (removed by `milvault unlock`, or not refreshable), that
// is why, and the error says so and wraps ErrLockLost; otherwise err is
// returned as it is.
func (l *Lock) Stopped(op string, err error) error {
	if err == nil || l == nil || l.ctx.Err() == nil {
		return err
	}
	if cause := context.Cause(l.ctx); errors.Is(cause, ErrLockLost) {
		return fmt.Errorf("%s stopped: %w", op, cause)
	}
	return err
}

// On reports whether l is a lock on r (the same repository, whichever
// Repository value opened it).
func (l *Lock) On(r *Repository) bool {
	return l.r.cfg.ID == r.cfg.ID && l.r.store.Location() == r.store.Location()
}

// check reports why l cannot protect an operation on r: it is nil, locks
// another repository, is shared when exclusive is needed, or was lost or
// released.
func (l *Lock) check(r *Repository, exclusive bool) error {
	switch {
	case l == nil:
		return errors.New("needs a lock on the repository; take one with Lock")
	case !l.On(r):
		return fmt.Errorf("the lock passed is on repository %s, not %s", l.r.store.Location(), r.store.Location())
	case exclusive && !l.info.Exclusive:
		return errors.New("needs an exclusive lock on the repository; the lock passed is shared")
	case l.ctx.Err() != nil:
		return fmt.Errorf("the lock passed is no longer held: %w", context.Cause(l.ctx))
	}
	return nil
}
