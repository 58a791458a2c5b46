// Package retry is a store wrapper that retries failed operations with
// exponential backoff and full jitter. Only errors the caller classifies as
// transient are retried; a missing file, a cancelled context and every other
// error return at once.
package retry

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/milvault/milvault/internal/clock"
	"github.com/milvault/milvault/repo"
)

var _ repo.Store = (*Store)(nil)

// Options configure retries. Zero values take the defaults noted.
type Options struct {
	// IsTransient classifies errors of the wrapped store; nil retries
	// nothing. Each backend supplies its own.
	IsTransient func(error) bool
	MaxAttempts int           // total attempts per operation; default 5
	Base        time.Duration // first backoff ceiling; default 200ms
	Max         time.Duration // largest backoff ceiling; default 15s
	// Sleep waits d or until ctx ends; default a timer. Tests replace it.
	Sleep func(ctx context.Context, d time.Duration) error
	// Jitter returns a number in [0, 1); default math/rand/v2.Float64.
	Jitter func() float64
	// SpoolBytes bounds the temporary file a Put with a reader that cannot
	// seek is copied into so that it can be replayed. 0 disables spooling:
	// such Puts are tried once. Longer streams are tried once as well.
	SpoolBytes int64
	SpoolDir   string // "" means os.TempDir()
	// OnRetry, if set, is told about every retried failure.
	OnRetry func(op, name string, attempt int, err error)
}

func (o Options) withDefaults() Options {
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 5
	}
	if o.Base <= 0 {
		o.Base = 200 * time.Millisecond
	}
	if o.Max <= 0 {
		o.Max = 15 * time.Second
	}
	if o.Sleep == nil {
		o.Sleep = clock.Sleep
	}
	if o.Jitter == nil {
		o.Jitter = rand.Float64
	}
	if o.IsTransient == nil {
		o.IsTransient = func(error) bool { return false }
	}
	return o
}

// Store retries the operations of the store it wraps. Open and OpenRange
// also resume a read that fails transiently half-way, by reopening the rest
// with a ranged read. Methods it does not override (Folders, FreeSpace,
// SpoolDir, Location) go to the wrapped store once.
type Store struct {
	repo.Store
	o Options
}

// New wraps inner.
func New(inner repo.Store, o Options) *Store {
	return &Store{Store: inner, o: o.withDefaults()}
}

// Wrap is New returning the repo.Store interface.
func Wrap(inner repo.Store, o Options) repo.Store { return New(inner, o) }

// retryable reports whether err may go away on a retry.
func (s *Store) retryable(ctx context.Context, err error) bool {
	switch {
	case err == nil, ctx.Err() != nil, errors.Is(err, repo.ErrNotFound),
		errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return false
	}
	return s.o.IsTransient(err)
}

// backoff returns the pause before attempt n (n >= 1 is the first retry):
// a random duration up to min(Max, Base·2^(n-1)) ("full jitter").
func (s *Store) backoff(n int) time.Duration {
	ceil := s.o.Base << min(n-1, 30)
	if ceil <= 0 || ceil > s.o.Max {
		ceil = s.o.Max
	}
	return time.Duration(s.o.Jitter() * float64(ceil))
}

// do runs fn until it succeeds, fails permanently, or runs out of attempts.
func (s *Store) do(ctx context.Context, op, name string, fn func() error) error {
	for attempt := 1; ; attempt++ {
		err := fn()
		if attempt >= s.o.MaxAttempts || !s.retryable(ctx, err) {
			if err != nil && attempt > 1 {
				return fmt.Errorf("%w (after %d attempts)", err, attempt)
			}
			return err
		}
		if s.o.OnRetry != nil {
			s.o.OnRetry(op, name, attempt, err)
		}
		if serr := s.o.Sleep(ctx, s.backoff(attempt)); serr != nil {
			return err
		}
	}
}

// Stat retries transient failures.
func (s *Store) Stat(ctx context.Context, name string) (fi repo.FileInfo, err error) {
	err = s.do(ctx, "stat", name, func() error {
		fi, err = s.Store.Stat(ctx, name)
		return err
	})
	return fi, err
}

// List retries transient failures.
func (s *Store) List(ctx context.Context, prefix string) (files []repo.FileInfo, err error) {
	err = s.do(ctx, "list", prefix, func() error {
		files, err = s.Store.List(ctx, prefix)
		return err
	})
	return files, err
}

// Delete retries transient failures.
func (s *Store) Delete(ctx context.Context, name string) error {
	return s.do(ctx, "delete", name, func() error { return s.Store.Delete(ctx, name) })
}

// DeleteAll retries transient failures.
func (s *Store) DeleteAll(ctx context.Context, prefix string) error {
	return s.do(ctx, "delete", prefix, func() error { return s.Store.DeleteAll(ctx, prefix) })
}
