package repo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"filippo.io/age"
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"

	"github.com/milvault/milvault/columnar"
	"github.com/milvault/milvault/manifest"
)

// EachRecord reads the stored data file f of a collection with the given
// schema and calls fn with each record batch of at most batchRows rows
// (released after fn returns). It checks that the file's columns are those
// of the schema and that it holds the rows the manifest says. The file is
// read with ranged reads through the store, so only what the Parquet
// reader asks for (the footer, then one column chunk at a time) is read or
// held in memory.
func (r *Repository) EachRecord(ctx context.Context, schema *schemapb.CollectionSchema, f manifest.File, batchRows int64, fn func(arrow.RecordBatch) error) error {
	file, err := r.openRandom(ctx, f.Path)
	if err != nil {
		return err
	}
	plain, err := r.openPlain(file)
	if err != nil {
		return err
	}
	fr, err := columnar.OpenFile(ctx, plain, schema, batchRows)
	if err != nil {
		return err
	}
	defer fr.Close()
	if fr.NumRows() != f.Rows {
		return fmt.Errorf("holds %d rows, manifest says %d", fr.NumRows(), f.Rows)
	}
	for {
		rec, err := fr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		err = fn(rec)
		rec.Release()
		if err != nil {
			return err
		}
	}
}

// readerAtSeeker is what Parquet readers need.
type readerAtSeeker interface {
	io.ReaderAt
	io.Seeker
	io.Reader
}

// openPlain gives random access to the content of file: file itself, or
// in an encrypted repository its decrypted content. age's seekable reader
// decrypts one 64 KiB chunk per read of the stored file, so a window
// turns its many small reads into one ranged read per window.
func (r *Repository) openPlain(file *randomFile) (readerAtSeeker, error) {
	if r.crypt == nil {
		return file, nil
	}
	if err := r.needKey("reading " + file.name); err != nil {
		return nil, err
	}
	win := &window{src: file, size: file.size}
	ra, n, err := age.DecryptReaderAt(win, file.size, r.crypt.identity)
	if err != nil {
		return nil, win.classify(file.name, err)
	}
	return io.NewSectionReader(authReaderAt{name: file.name, r: ra, win: win}, 0, n), nil
}

// authReaderAt marks read errors of decryption as damage.
type authReaderAt struct {
	name string
	r    io.ReaderAt
	win  *window
}

func (a authReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := a.r.ReadAt(p, off)
	if err != nil && err != io.EOF {
		err = a.win.classify(a.name, err)
	}
	return n, err
}

// windowBytes is how much of an encrypted file one ranged read fetches.
const windowBytes = 4 << 20

// window caches one span of a stored file, read with one ranged read.
type window struct {
	mu   sync.Mutex // age may read concurrently
	src  io.ReaderAt
	size int64
	off  int64
	buf  []byte
	err  error // the last error of reading the store
}

// classify returns the store's own error when reading failed, else err as
// damage of the stored bytes.
func (w *window) classify(name string, err error) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	return decryptError(name, err)
}

// ReadAt serves p from the cached span, reading a new one from off when
// p lies outside it.
func (w *window) ReadAt(p []byte, off int64) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if off < w.off || off+int64(len(p)) > w.off+int64(len(w.buf)) {
		n := min(max(int64(len(p)), windowBytes), w.size-off)
		if n <= 0 {
			return 0, io.EOF
		}
		if int64(cap(w.buf)) < n {
			w.buf = make([]byte, n)
		}
		w.buf = w.buf[:n]
		if _, err := w.src.ReadAt(w.buf, off); err != nil && err != io.EOF {
			w.buf = w.buf[:0]
			w.err = err
			return 0, err
		}
		w.off = off
	}
	n := copy(p, w.buf[off-w.off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// randomFile gives random access (io.ReaderAt and io.Seeker, as Parquet
// readers need) to a stored file through the store's ranged reads, so
// that every byte passes the store's wrappers (limits, logging, retries,
// fault injection).
type randomFile struct {
	ctx   context.Context
	store Store
	name  string
	size  int64
	pos   int64
}

// OpenRandom gives random access (io.ReaderAt, io.Reader and io.Seeker, as
// Parquet readers need) to the file name of size bytes in store s through
// its ranged reads, for files that lie outside any repository (an export
// folder being imported, say).
func OpenRandom(ctx context.Context, s Store, name string, size int64) interface {
	io.ReaderAt
	io.ReadSeeker
} {
	return &randomFile{ctx: ctx, store: s, name: name, size: size}
}

func (r *Repository) openRandom(ctx context.Context, name string) (*randomFile, error) {
	fi, err := r.store.Stat(ctx, name)
	if err != nil {
		return nil, err
	}
	return &randomFile{ctx: ctx, store: r.store, name: name, size: fi.Size}, nil
}

// ReadAt reads len(p) bytes at off with one ranged read.
func (f *randomFile) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("read %s: negative offset %d", f.name, off)
	}
	if off >= f.size {
		return 0, io.EOF
	}
	want := min(int64(len(p)), f.size-off)
	rc, err := f.store.OpenRange(f.ctx, f.name, off, want)
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	n, err := io.ReadFull(rc, p[:want])
	if err != nil {
		return n, fmt.Errorf("read %s at %d: %w", f.name, off, err)
	}
	if want < int64(len(p)) {
		return n, io.EOF
	}
	return n, nil
}

// Read reads from the current position.
func (f *randomFile) Read(p []byte) (int, error) {
	n, err := f.ReadAt(p, f.pos)
	f.pos += int64(n)
	return n, err
}

// Seek sets the position for Read.
func (f *randomFile) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += f.pos
	case io.SeekEnd:
		offset += f.size
	default:
		return 0, fmt.Errorf("seek %s: invalid whence %d", f.name, whence)
	}
	if offset < 0 {
		return 0, fmt.Errorf("seek %s: negative position %d", f.name, offset)
	}
	f.pos = offset
	return offset, nil
}
