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
			return s.inner.Put(ctx, name, rest)
		}
		defer spool.close()
		rs = spool.f
	}
	start, err := rs.Seek(0, io.SeekCurrent)
	if err != nil {
		return s.inner.Put(ctx, name, rs)
	}
	return s.do(ctx, "put", name, func() error {
		if _, err := rs.Seek(start, io.SeekStart); err != nil {
			return fmt.Errorf("put %s: rewind: %w", name, err)
		}
		return s.inner.Put(ctx, name, rs)
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
// reopens the file and skips the bytes already delivered.
func (s *Store) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	rc, err := s.open(ctx, name)
	if err != nil {
		return nil, err
	}
	return &resumingReader{ctx: ctx, s: s, name: name, rc: rc}, nil
}

func (s *Store) open(ctx context.Context, name string) (rc io.ReadCloser, err error) {
	err = s.do(ctx, "open", name, func() error {
		rc, err = s.inner.Open(ctx, name)
		return err
	})
	return rc, err
}

type resumingReader struct {
	ctx     context.Context
	s       *Store
	name    string
	rc      io.ReadCloser
	pos     int64
	resumes int
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

// resume reopens the file after a failed read and skips to pos.
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
	rc, err := r.s.open(r.ctx, r.name)
	if err != nil {
		r.rc = io.NopCloser(errReader{err})
		return err
	}
	r.rc = rc
	if _, err := io.CopyN(io.Discard, rc, r.pos); err != nil {
		return fmt.Errorf("resume reading %s at %d: %w", r.name, r.pos, err)
	}
	return nil
}

func (r *resumingReader) Close() error { return r.rc.Close() }

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
