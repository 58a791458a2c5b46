package backup

import (
	"context"
	"fmt"
	"io"
	"os"
	"regexp"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"

	"github.com/milvault/milvault/checksum"
	"github.com/milvault/milvault/columnar"
	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/milvus"
)

// Bounds of one query batch and of one Parquet row group. A query batch is
// sized to about batchTargetBytes of raw data and never over the server's
// 16,384-row result window; a row group buffers at most rowGroupBytes before
// it is encoded and handed to the store.
const (
	batchTargetBytes = 4 << 20
	maxBatchRows     = 16384
	minBatchRows     = 64
	rowGroupBytes    = 8 << 20
)

// AllPartitions names the pseudo-partition of partition-key collections,
// whose partitions the server manages.
const AllPartitions = "_all"

// writeCollection streams every selected partition into data files.
func writeCollection(ctx context.Context, deps Deps, p Params, m *manifest.Manifest, c *captured) (err error) {
	putBack, err := ensureLoaded(ctx, deps, c)
	if err != nil {
		return err
	}
	defer func() {
		if perr := putBack(); perr != nil && err == nil {
			err = fmt.Errorf("putting back the load state of %s: %w", c.QualifiedName(), perr)
		}
	}()
	deps.Progress.Phase("backup "+c.QualifiedName(), c.ServerRowCount, 0)
	parts := c.partitions
	if c.PartitionKey {
		parts = []string{AllPartitions}
	}
	for _, part := range parts {
		mp, err := writePartition(ctx, deps, p, m, c, part)
		if err != nil {
			return err
		}
		c.Partitions = append(c.Partitions, mp)
		c.Rows += mp.Rows
	}
	return nil
}

func writePartition(ctx context.Context, deps Deps, p Params, m *manifest.Manifest, c *captured, part string) (manifest.Partition, error) {
	w, err := newPartitionWriter(deps, p, m, c, part)
	if err != nil {
		return manifest.Partition{}, err
	}
	defer w.release()
	req := milvus.ScanRequest{Database: c.Database, Collection: c.Name, PrimaryKey: c.pk, BatchRows: BatchRows(c.schema)}
	if part != AllPartitions {
		req.Partitions = []string{part}
	}
	res, err := deps.Milvus.Scan(ctx, req, func(b milvus.Batch) error { return w.add(ctx, b) })
	if err == nil {
		err = w.finish(ctx)
	}
	if err != nil {
		w.abort()
		return manifest.Partition{}, err
	}
	if res.SessionTs != 0 && m.Snapshot.Timestamp != 0 {
		m.Snapshot.Pinned = true
	}
	return manifest.Partition{Name: part, Rows: w.rows, Files: w.files}, nil
}

// BatchRows is the number of rows a backup asks for per Query call for a
// collection with schema s: about batchTargetBytes of raw data, between
// minBatchRows and the server's 16,384-row window. It is exported so that
// internal/bench drains the server with exactly the backup's batches.
func BatchRows(s *schemapb.CollectionSchema) int {
	n := batchTargetBytes / milvus.EstimateRowBytes(s)
	return max(minBatchRows, min(maxBatchRows, n))
}

// partitionWriter turns scan batches into a sequence of data files.
type partitionWriter struct {
	deps    Deps
	p       Params
	sch     *arrow.Schema
	builder *columnar.Builder
	prefix  string // store folder of this partition's files
	meta    map[string]string
	cur     *openFile
	files   []manifest.File
	rows    int64
}

func newPartitionWriter(deps Deps, p Params, m *manifest.Manifest, c *captured, part string) (*partitionWriter, error) {
	sch, err := columnar.ArrowSchema(c.schema)
	if err != nil {
		return nil, err
	}
	b, err := columnar.NewBuilder(memory.DefaultAllocator, c.schema)
	if err != nil {
		return nil, err
	}
	return &partitionWriter{
		deps: deps, p: p, sch: sch, builder: b,
		prefix: manifest.DataPrefix(m.ID) + safeName(c.Database) + "/" + safeName(c.Name) + "/" + safeName(part) + "/",
		meta:   map[string]string{"milvault.backup_id": m.ID, "milvault.database": c.Database, "milvault.collection": c.Name, "milvault.partition": part},
	}, nil
}

func (w *partitionWriter) add(ctx context.Context, b milvus.Batch) error {
	if err := w.builder.Append(b.Fields, b.Rows); err != nil {
		return err
	}
	w.deps.Progress.Rows(int64(b.Rows))
	if w.builder.EstimatedBytes() >= min(rowGroupBytes, w.p.ChunkBytes) {
		return w.flushRowGroup(ctx)
	}
	return nil
}

// flushRowGroup writes the buffered rows as one row group, then closes the
// file once it has reached the target size.
func (w *partitionWriter) flushRowGroup(ctx context.Context) error {
	if w.builder.Rows() == 0 {
		return nil
	}
	if w.cur == nil {
		f, err := w.openNext(ctx)
		if err != nil {
			return err
		}
		w.cur = f
	}
	rec := w.builder.NewRecord()
	defer rec.Release()
	before := w.cur.hash.Count()
	if err := w.cur.pw.Write(rec); err != nil {
		return fmt.Errorf("write %s: %w", w.cur.name, err)
	}
	w.cur.rows += rec.NumRows()
	w.deps.Progress.Bytes(w.cur.hash.Count() - before)
	if w.cur.hash.Count() >= w.p.ChunkBytes {
		return w.closeCurrent(ctx)
	}
	return nil
}

func (w *partitionWriter) finish(ctx context.Context) error {
	if err := w.flushRowGroup(ctx); err != nil {
		return err
	}
	if w.cur == nil && len(w.files) == 0 {
		// An empty partition still gets one file, so that its schema is kept.
		f, err := w.openNext(ctx)
		if err != nil {
			return err
		}
		w.cur = f
	}
	if w.cur != nil {
		return w.closeCurrent(ctx)
	}
	return nil
}

func (w *partitionWriter) release() { w.builder.Release() }

func (w *partitionWriter) abort() {
	if w.cur != nil {
		w.cur.abort()
		w.cur = nil
	}
}

// openFile is a data file being written. It is spooled to a temporary
// local file (at most one chunk, so disk use is bounded by --chunk-size and
// memory by the row group) and handed to the store when complete: the store
// gets an *os.File, an io.ReadSeeker, so a retrying store can replay it.
// The checksum is computed while the file is written.
type openFile struct {
	name  string
	pw    *columnar.FileWriter
	hash  *checksum.Writer
	spool *os.File
	rows  int64
}

func (w *partitionWriter) openNext(ctx context.Context) (*openFile, error) {
	name := fmt.Sprintf("%spart-%05d.parquet", w.prefix, len(w.files))
	spool, err := os.CreateTemp(w.p.SpoolDir, "milvault-chunk-*.parquet")
	if err != nil {
		return nil, fmt.Errorf("spool %s: %w", name, err)
	}
	f := &openFile{name: name, spool: spool}
	f.hash = checksum.NewWriter(spool, w.p.Checksum)
	pw, err := columnar.NewFileWriter(f.hash, w.sch, columnar.WriterOptions{
		Compression: w.p.Compression, Level: w.p.CompressionLevel, Metadata: w.meta,
	})
	if err != nil {
		f.abort()
		return nil, err
	}
	f.pw = pw
	return f, nil
}

func (w *partitionWriter) closeCurrent(ctx context.Context) error {
	f := w.cur
	w.cur = nil
	defer f.abort()
	if err := f.pw.Close(); err != nil {
		return fmt.Errorf("write %s: %w", f.name, err)
	}
	if _, err := f.spool.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("write %s: %w", f.name, err)
	}
	if err := w.deps.Repo.Store().Put(ctx, f.name, f.spool); err != nil {
		return err
	}
	w.files = append(w.files, manifest.File{Path: f.name, Size: f.hash.Count(), Rows: f.rows, Checksum: f.hash.Digest()})
	w.rows += f.rows
	return nil
}

// abort removes the spool file; it is also how a stored file's spool is
// cleaned up.
func (f *openFile) abort() {
	f.spool.Close()
	os.Remove(f.spool.Name())
}

var safePattern = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_-]*$`)

// safeName keeps Milvus names readable in paths and hex-encodes any other.
func safeName(s string) string {
	if safePattern.MatchString(s) && len(s) <= 200 {
		return s
	}
	return fmt.Sprintf("x%x", s)
}
