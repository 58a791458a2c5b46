// Package limit is a store wrapper that bounds how many operations run at
// once and how fast data moves in and out of the store, and counts the
// bytes read from it.
package limit

import (
	"context"
	"io"
	"sync/atomic"

	"golang.org/x/time/rate"

	"github.com/milvault/milvault/repo"
)

var _ repo.Store = (*Store)(nil)

// Options configure the limits. Zero means unlimited.
type Options struct {
	// Connections is the most operations in flight at once. A Put holds
	// its slot until it returns; an Open only while it opens (its stream is
	// bounded by DownloadBytesPerSec), so that a caller holding readers
	// open cannot starve its own writes.
	Connections int
	// UploadBytesPerSec limits the data read from Put's readers.
	UploadBytesPerSec int64
	// DownloadBytesPerSec limits the data read from Open's readers.
	DownloadBytesPerSec int64
}

// Store applies the limits to the store it wraps.
type Store struct {
	repo.Store
	slots    chan struct{} // nil when unlimited
	up, down *rate.Limiter // nil when unlimited

	downloaded atomic.Int64
}

// Downloaded returns the bytes delivered by the readers of Open and
// OpenRange so far.
func (s *Store) Downloaded() int64 { return s.downloaded.Load() }

// New wraps inner.
func New(inner repo.Store, o Options) *Store {
	s := &Store{Store: inner,
		up: limiter(o.UploadBytesPerSec), down: limiter(o.DownloadBytesPerSec)}
	if o.Connections > 0 {
		s.slots = make(chan struct{}, o.Connections)
	}
	return s
}

// Wrap is New returning the repo.Store interface.
func Wrap(inner repo.Store, o Options) repo.Store { return New(inner, o) }

// limiter returns a token bucket of bytesPerSec whose burst, one read's
// worth, is at most a quarter second of traffic (and at least 4 KiB).
func limiter(bytesPerSec int64) *rate.Limiter {
	if bytesPerSec <= 0 {
		return nil
	}
	return rate.NewLimiter(rate.Limit(bytesPerSec), int(max(bytesPerSec/4, 4<<10)))
}

// acquire takes a slot, or fails when ctx ends first.
func (s *Store) acquire(ctx context.Context) (release func(), err error) {
	if s.slots == nil {
		return func() {}, nil
	}
	select {
	case s.slots <- struct{}{}:
		return func() { <-s.slots }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Put holds a slot for the whole upload and paces the reader.
func (s *Store) Put(ctx context.Context, name string, r io.Reader) error {
	release, err := s.acquire(ctx)
	if err != nil {
		return err
	}
	defer release()
	if s.up == nil {
		return s.Store.Put(ctx, name, r) // unchanged, so a local store can link a file
	}
	return s.Store.Put(ctx, name, pace(ctx, r, s.up, nil))
}

// Open holds a slot while opening and paces the returned reader.
func (s *Store) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	return s.paced(ctx, func() (io.ReadCloser, error) { return s.Store.Open(ctx, name) })
}

// OpenRange holds a slot while opening and paces the returned reader.
func (s *Store) OpenRange(ctx context.Context, name string, offset, length int64) (io.ReadCloser, error) {
	return s.paced(ctx, func() (io.ReadCloser, error) { return s.Store.OpenRange(ctx, name, offset, length) })
}

// paced opens a reader with open while holding a slot, and paces it.
func (s *Store) paced(ctx context.Context, open func() (io.ReadCloser, error)) (io.ReadCloser, error) {
	release, err := s.acquire(ctx)
	if err != nil {
		return nil, err
	}
	rc, err := open()
	release()
	if err != nil {
		return rc, err
	}
	return struct {
		io.Reader
		io.Closer
	}{pace(ctx, rc, s.down, &s.downloaded), rc}, nil
}

// Stat holds a slot.
func (s *Store) Stat(ctx context.Context, name string) (repo.FileInfo, error) {
	release, err := s.acquire(ctx)
	if err != nil {
		return repo.FileInfo{}, err
	}
	defer release()
	return s.Store.Stat(ctx, name)
}

// List holds a slot.
func (s *Store) List(ctx context.Context, prefix string) ([]repo.FileInfo, error) {
	release, err := s.acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	return s.Store.List(ctx, prefix)
}

// Delete holds a slot.
func (s *Store) Delete(ctx context.Context, name string) error {
	release, err := s.acquire(ctx)
	if err != nil {
		return err
	}
	defer release()
	return s.Store.Delete(ctx, name)
}

// DeleteAll holds a slot.
func (s *Store) DeleteAll(ctx context.Context, prefix string) error {
	release, err := s.acquire(ctx)
	if err != nil {
		return err
	}
	defer release()
	return s.Store.DeleteAll(ctx, prefix)
}

// pacedReader waits for tokens for every byte it delivers (when it has a
// limiter) and counts them (when it has a counter).
type pacedReader struct {
	ctx   context.Context
	r     io.Reader
	lim   *rate.Limiter // nil: no limit
	count *atomic.Int64 // nil: not counted
}

func pace(ctx context.Context, r io.Reader, lim *rate.Limiter, count *atomic.Int64) io.Reader {
	return &pacedReader{ctx: ctx, r: r, lim: lim, count: count}
}

func (p *pacedReader) Read(b []byte) (int, error) {
	if p.lim != nil && len(b) > p.lim.Burst() {
		b = b[:p.lim.Burst()]
	}
	n, err := p.r.Read(b)
	if p.count != nil {
		p.count.Add(int64(n))
	}
	if n > 0 && p.lim != nil {
		if werr := p.lim.WaitN(p.ctx, n); werr != nil {
			return n, werr
		}
	}
	return n, err
}
