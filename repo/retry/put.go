package retry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
)

// Put retries transient failures when r can be replayed: an io.ReadSeeker
// is rewound to where it stood when Put was called; any other reader is
// first copied into a temporary file of at most Options.SpoolBytes. A
// reader that can be neither is tried once.
func (s *Store) Put(ctx context.Context, name string, r io.Reader) error {
	rs, ok := r.(io.ReadSeeker)
	if !ok {
		spool, rest, err := s.spool(r)
		if err != nil {
			return fmt.Errorf("put %s: %w", name, err)
		}
		if spool == nil {
			return s.Store.Put(ctx, name, rest)
		}
		defer spool.close()
		rs = spool.f
	}
	start, err := rs.Seek(0, io.SeekCurrent)
	if err != nil {
		return s.Store.Put(ctx, name, rs)
	}
	return s.do(ctx, "put", name, func() error {
		if _, err := rs.Seek(start, io.SeekStart); err != nil {
			return fmt.Errorf("put %s: rewind: %w", name, err)
		}
		return s.Store.Put(ctx, name, rs)
	})
}

type spoolFile struct{ f *os.File }

func (sp spoolFile) close() {
	sp.f.Close()
	os.Remove(sp.f.Name())
}

// spool copies r into a temporary file when it fits in SpoolBytes. When it
// does not (or spooling is off), it returns no spool and a reader that
// yields everything r would have.
func (s *Store) spool(r io.Reader) (*spoolFile, io.Reader, error) {
	if s.o.SpoolBytes <= 0 {
		return nil, r, nil
	}
	f, err := os.CreateTemp(s.o.SpoolDir, "milvault-put-*")
	if err != nil {
		return nil, nil, fmt.Errorf("spool for retries: %w", err)
	}
	sp := &spoolFile{f: f}
	n, err := io.Copy(f, io.LimitReader(r, s.o.SpoolBytes+1))
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		sp.close()
		return nil, nil, err
	}
	if n <= s.o.SpoolBytes {
		return sp, nil, nil
	}
	// Too long to spool: send what was spooled, then the rest, once. The
	// spooled part is read from a file that is already unlinked.
	os.Remove(f.Name())
	return nil, io.MultiReader(closingReader{f}, r), nil
}

// closingReader closes its file at EOF.
type closingReader struct{ f *os.File }

func (c closingReader) Read(p []byte) (int, error) {
	n, err := c.f.Read(p)
	if errors.Is(err, io.EOF) {
		c.f.Close()
	}
	return n, err
}

// Open retries opening, and resumes a read that fails transiently: it
// reopens the rest of the file with a ranged read.
func (s *Store) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	rc, err := s.open(ctx, name, func() (io.ReadCloser, error) { return s.Store.Open(ctx, name) })
	if err != nil {
		return nil, err
	}
	return &resumingReader{ctx: ctx, s: s, name: name, rc: rc, length: -1}, nil
}

// OpenRange retries opening, and resumes a read that fails transiently by
// reopening the rest of the range.
func (s *Store) OpenRange(ctx context.Context, name string, offset, length int64) (io.ReadCloser, error) {
	rc, err := s.open(ctx, name, func() (io.ReadCloser, error) { return s.Store.OpenRange(ctx, name, offset, length) })
	if err != nil {
		return nil, err
	}
	return &resumingReader{ctx: ctx, s: s, name: name, rc: rc, offset: offset, length: length}, nil
}

func (s *Store) open(ctx context.Context, name string, open func() (io.ReadCloser, error)) (rc io.ReadCloser, err error) {
	err = s.do(ctx, "open", name, func() error {
		rc, err = open()
		return err
	})
	return rc, err
}

// resumingReader reads length bytes (all when negative) of name from
// offset, reopening the rest after a transient failure.
type resumingReader struct {
	ctx            context.Context
	s              *Store
	name           string
	offset, length int64
	rc             io.ReadCloser
	pos            int64
	resumes        int
}

func (r *resumingReader) Read(p []byte) (int, error) {
	for {
		n, err := r.rc.Read(p)
		r.pos += int64(n)
		if n > 0 || err == nil || errors.Is(err, io.EOF) || !r.s.retryable(r.ctx, err) {
			return n, err
		}
		if rerr := r.resume(err); rerr != nil {
			return 0, rerr
		}
	}
}

// resume reopens the rest of the file (or range) after a failed read.
func (r *resumingReader) resume(cause error) error {
	r.resumes++
	if r.resumes >= r.s.o.MaxAttempts {
		return fmt.Errorf("%w (after %d attempts)", cause, r.resumes)
	}
	if r.s.o.OnRetry != nil {
		r.s.o.OnRetry("read", r.name, r.resumes, cause)
	}
	if err := r.s.o.Sleep(r.ctx, r.s.backoff(r.resumes)); err != nil {
		return cause
	}
	r.rc.Close()
	rest := int64(-1)
	if r.length >= 0 {
		rest = r.length - r.pos
	}
	rc, err := r.s.open(r.ctx, r.name, func() (io.ReadCloser, error) {
		return r.s.Store.OpenRange(r.ctx, r.name, r.offset+r.pos, rest)
	})
	if err != nil {
		r.rc = io.NopCloser(errReader{err})
		return fmt.Errorf("resume reading %s at %d: %w", r.name, r.offset+r.pos, err)
	}
	r.rc = rc
	return nil
}

func (r *resumingReader) Close() error { return r.rc.Close() }

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
