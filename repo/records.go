package repo

import (
	"context"
	"errors"
	"fmt"
	"io"

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
	fr, err := columnar.OpenFile(ctx, file, schema, batchRows)
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
