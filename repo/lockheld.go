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
type Lock struct {
	r      *Repository
	info   LockInfo
	cancel context.CancelCauseFunc
	stop   chan struct{}
	done   chan struct{}
	once   sync.Once
}

// Info describes the lock as it was acquired.
func (l *Lock) Info() LockInfo { return l.info }

// start begins refreshing and returns the context that ends when the lock
// is lost or released.
func (l *Lock) start(ctx context.Context, o LockOptions) context.Context {
	lctx, cancel := context.WithCancelCause(ctx)
	l.cancel, l.stop, l.done = cancel, make(chan struct{}), make(chan struct{})
	if l.info.Exclusive {
		l.r.holdExclusive(1)
	}
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

// refreshOnce rewrites the lock file with a new refresh time, unless it was
// removed. l.info keeps the time of acquisition, so it is never written
// concurrently.
func (l *Lock) refreshOnce(ctx context.Context) (time.Time, error) {
	if _, err := l.r.store.Stat(ctx, l.info.Name); err != nil {
		return time.Time{}, err
	}
	info := l.info
	info.Refreshed = l.r.now().UTC()
	return info.Refreshed, l.r.writeLock(ctx, info)
}

// Unlock stops refreshing and removes the lock file. It is safe to call
// more than once; the lock's context is cancelled.
func (l *Lock) Unlock() error {
	var err error
	l.once.Do(func() {
		close(l.stop)
		<-l.done
		l.cancel(context.Canceled)
		if l.info.Exclusive {
			l.r.holdExclusive(-1)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if derr := l.r.store.Delete(ctx, l.info.Name); derr != nil {
			err = fmt.Errorf("release lock %s: %w", l.info.Name, derr)
		}
	})
	return err
}

func (r *Repository) holdExclusive(delta int) {
	r.lockMu.Lock()
	defer r.lockMu.Unlock()
	r.exclusive += delta
}

// HoldsExclusiveLock reports whether this Repository holds an exclusive
// lock taken with Lock.
func (r *Repository) HoldsExclusiveLock() bool {
	r.lockMu.Lock()
	defer r.lockMu.Unlock()
	return r.exclusive > 0
}
