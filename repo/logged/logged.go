// Package logged is a store wrapper that logs one line per operation, with
// its duration, size and error, to a log/slog logger. It logs file names and
// the store's Location, which by contract carry no secrets, and never data.
package logged

import (
	"context"
	"io"
	"log/slog"
	"time"

	"github.com/milvault/milvault/repo"
)

var _ repo.Store = (*Store)(nil)

// Store logs the operations of the store it wraps.
type Store struct {
	repo.Store
	log   *slog.Logger
	level slog.Level
	now   func() time.Time
}

// Options configure logging.
type Options struct {
	Level slog.Level       // level of successful operations; failures log at Warn or above
	Now   func() time.Time // default time.Now
}

// New wraps inner.
func New(inner repo.Store, log *slog.Logger, o Options) *Store {
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Store{Store: inner, log: log, level: o.Level, now: o.Now}
}

// Wrap is New returning the repo.Store interface.
func Wrap(inner repo.Store, log *slog.Logger, o Options) repo.Store {
	return New(inner, log, o)
}

// record logs one finished operation.
func (s *Store) record(ctx context.Context, op, name string, start time.Time, bytes int64, err error, extra ...slog.Attr) {
	attrs := []slog.Attr{slog.String("op", op), slog.String("name", name),
		slog.Duration("duration", s.now().Sub(start))}
	if bytes >= 0 {
		attrs = append(attrs, slog.Int64("bytes", bytes))
	}
	attrs = append(attrs, extra...)
	level := s.level
	if err != nil {
		level = max(level, slog.LevelWarn)
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	s.log.LogAttrs(ctx, level, "store", attrs...)
}

// Put logs the upload with the bytes read from r.
func (s *Store) Put(ctx context.Context, name string, r io.Reader) error {
	start := s.now()
	cr := &countingReader{r: r}
	err := s.Store.Put(ctx, name, cr)
	s.record(ctx, "put", name, start, cr.n, err)
	return err
}

// Open logs the opening; the stream is logged when it is closed.
func (s *Store) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	start := s.now()
	rc, err := s.Store.Open(ctx, name)
	if err != nil {
		s.record(ctx, "open", name, start, -1, err)
		return nil, err
	}
	return &loggedReader{ctx: ctx, s: s, name: name, start: start, rc: rc}, nil
}

// OpenRange logs the opening; the stream is logged, with its range, when
// it is closed.
func (s *Store) OpenRange(ctx context.Context, name string, offset, length int64) (io.ReadCloser, error) {
	start := s.now()
	rc, err := s.Store.OpenRange(ctx, name, offset, length)
	if err != nil {
		s.record(ctx, "open-range", name, start, -1, err, slog.Int64("offset", offset), slog.Int64("length", length))
		return nil, err
	}
	return &loggedReader{ctx: ctx, s: s, name: name, start: start, rc: rc,
		extra: []slog.Attr{slog.Int64("offset", offset)}}, nil
}

// Stat logs the call.
func (s *Store) Stat(ctx context.Context, name string) (repo.FileInfo, error) {
	start := s.now()
	fi, err := s.Store.Stat(ctx, name)
	s.record(ctx, "stat", name, start, fi.Size, err)
	return fi, err
}

// List logs the call with the number of files found.
func (s *Store) List(ctx context.Context, prefix string) ([]repo.FileInfo, error) {
	start := s.now()
	files, err := s.Store.List(ctx, prefix)
	s.record(ctx, "list", prefix, start, -1, err, slog.Int("files", len(files)))
	return files, err
}

// Delete logs the call.
func (s *Store) Delete(ctx context.Context, name string) error {
	start := s.now()
	err := s.Store.Delete(ctx, name)
	s.record(ctx, "delete", name, start, -1, err)
	return err
}

// DeleteAll logs the call.
func (s *Store) DeleteAll(ctx context.Context, prefix string) error {
	start := s.now()
	err := s.Store.DeleteAll(ctx, prefix)
	s.record(ctx, "delete-all", prefix, start, -1, err)
	return err
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// loggedReader logs a read stream once, when it is closed.
type loggedReader struct {
	ctx     context.Context
	s       *Store
	name    string
	start   time.Time
	rc      io.ReadCloser
	n       int64
	readErr error
	extra   []slog.Attr
}

func (l *loggedReader) Read(p []byte) (int, error) {
	n, err := l.rc.Read(p)
	l.n += int64(n)
	if err != nil && err != io.EOF {
		l.readErr = err
	}
	return n, err
}

func (l *loggedReader) Close() error {
	err := l.rc.Close()
	l.s.record(l.ctx, "read", l.name, l.start, l.n, firstErr(l.readErr, err), l.extra...)
	return err
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}
