package backup

import (
	"context"
	"fmt"
	"regexp"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
	"golang.org/x/sync/errgroup"

	"github.com/milvault/milvault/columnar"
	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/milvus"
	"github.com/milvault/milvault/repo"
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
	maxScanWorkers   = 32
)

// AllPartitions names the pseudo-partition of partition-key collections,
// whose partitions the server manages.
const AllPartitions = "_all"

// writeCollection streams every selected partition into data files,
// recording its progress in jr (nil: none). from, when not nil, is the
// progress an interrupted backup recorded for this collection: its finished
// partitions are taken as they are and the one in progress goes on after
// its last stored key.
func writeCollection(ctx context.Context, deps Deps, p Params, m *manifest.Manifest, c *captured, jr *journaler, from *partialCollection) (err error) {
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
		mp, done := from.done(part)
		if !done {
			if mp, err = writePartition(ctx, deps, p, m, c, part, jr, from.inProgress(part)); err != nil {
				return err
			}
		}
		c.Partitions = append(c.Partitions, mp)
		c.Rows += mp.Rows
		if err := jr.partitionDone(ctx, mp); err != nil {
			return err
		}
	}
	return nil
}

// writePartition streams one partition into data files through a
// four-stage pipeline, so that reading, encoding and storing overlap:
//
//	scan (Query RPCs, protobuf decoding) -> batches ->
//	append (copy into Arrow builders) -> row groups ->
//	sink (Parquet encoding, compression, checksum, spool file) -> files ->
//	upload (store Put: copy and fsync, or network upload)
//
// The hand-offs are unbuffered: each stage holds the one item it works on,
// so memory is bounded by about two query batches and two row groups (plus
// the Parquet writer's buffers) whatever the partition's size, and at most
// two spool files (one being written, one being stored) exist at a time.
// The first error of any stage cancels the others.
func writePartition(ctx context.Context, deps Deps, p Params, m *manifest.Manifest, c *captured, part string, jr *journaler, from *partialCollection) (manifest.Partition, error) {
	w, err := newPartitionWriter(deps, p, m, c, part)
	if err != nil {
		return manifest.Partition{}, err
	}
	defer w.release()
	if jr != nil {
		w.journal = func(ctx context.Context, lastKey any) error { return jr.fileStored(ctx, part, w.files, lastKey) }
	}
	batch := p.QueryBatchRows
	if batch == 0 {
		batch = BatchRows(c.schema)
	}
	req := milvus.ScanRequest{Database: c.Database, Collection: c.Name, PrimaryKey: c.pk,
		BatchRows: batch, GuaranteeTs: c.snapshot.Timestamp, Workers: p.ScanWorkers}
	if req.Workers == 0 {
		req.Workers = milvus.AutoWorkers
	}
	req.After, req.Until = p.after, p.until // a shard's key range (shard.go)
	if from != nil {
		w.resume(from)
		req.After = from.LastKey.value()
	}
	if part != AllPartitions {
		req.Partitions = []string{part}
	}
	check := startRowCheck(ctx, deps, p, c, part, from != nil)
	g, gctx := errgroup.WithContext(ctx)
	batches := make(chan milvus.Batch)
	groups := make(chan arrow.RecordBatch)
	var res milvus.ScanResult
	g.Go(func() error {
		defer close(batches)
		var err error
		res, err = deps.Milvus.Scan(gctx, req, func(b milvus.Batch) error { return send(gctx, batches, b) })
		return err
	})
	g.Go(func() error {
		defer close(groups)
		return w.appendAll(gctx, batches, groups)
	})
	uploads := make(chan *openFile)
	g.Go(func() error {
		defer close(uploads)
		return w.sink(gctx, groups, uploads)
	})
	g.Go(func() error { return w.uploadAll(gctx, uploads) })
	if err := g.Wait(); err != nil {
		w.abort()
		drainRecords(groups)
		return manifest.Partition{}, err
	}
	if err := check.finish(ctx, deps, w.rows); err != nil {
		return manifest.Partition{}, err
	}
	if res.SessionTs != 0 && m.Snapshot.Timestamp != 0 {
		m.Snapshot.Pinned = true
	}
	return manifest.Partition{Name: part, Rows: w.rows, Files: w.files}, nil
}

// send hands v to the next stage unless ctx is cancelled first.
func send[T any](ctx context.Context, ch chan<- T, v T) error {
	select {
	case ch <- v:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// drainRecords releases the row groups a failed pipeline left behind.
func drainRecords(ch <-chan arrow.RecordBatch) {
	for rec := range ch {
		rec.Release()
	}
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
	cur     *openFile        // file being written (sink stage)
	opened  int              // files opened so far (sink stage)
	uploads chan<- *openFile // finished files for the upload stage
	files   []manifest.File  // stored files (upload stage)
	rows    int64
	pkIndex int // column of the primary key in row groups
	// journal, when set, records progress after each stored file (upload
	// stage), given the last key of that file.
	journal func(ctx context.Context, lastKey any) error
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
	pkIndex := sch.FieldIndices(c.pk.GetName())
	if len(pkIndex) != 1 {
		b.Release()
		return nil, fmt.Errorf("primary key %s not found once in the columns of %s", c.pk.GetName(), c.QualifiedName())
	}
	return &partitionWriter{
		deps: deps, p: p, sch: sch, builder: b, pkIndex: pkIndex[0],
		prefix: manifest.DataPrefix(m.ID) + safeName(c.Database) + "/" + safeName(c.Name) + "/" + safeName(part) + "/" + p.shardDir,
		meta:   map[string]string{"milvault.backup_id": m.ID, "milvault.database": c.Database, "milvault.collection": c.Name, "milvault.partition": part},
	}, nil
}

// appendAll copies query batches into the Arrow builders and cuts a row
// group whenever about rowGroupBytes (or --chunk-size, if smaller) are
// buffered, and once more at the end.
func (w *partitionWriter) appendAll(ctx context.Context, in <-chan milvus.Batch, out chan<- arrow.RecordBatch) error {
	cut := func() error {
		if w.builder.Rows() == 0 {
			return nil
		}
		rec := w.builder.NewRecord()
		if err := send(ctx, out, rec); err != nil {
			rec.Release()
			return err
		}
		return nil
	}
	for b := range in {
		if err := w.builder.Append(b.Fields, b.Rows); err != nil {
			return err
		}
		w.deps.Progress.Rows(int64(b.Rows))
		if w.builder.EstimatedBytes() >= min(rowGroupBytes, w.p.ChunkBytes) {
			if err := cut(); err != nil {
				return err
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return err // the scan failed; its error is the one reported
	}
	return cut()
}

// sink writes row groups into data files, closing a file once it has
// reached the chunk size, and the last one when the input ends.
func (w *partitionWriter) sink(ctx context.Context, in <-chan arrow.RecordBatch, out chan<- *openFile) error {
	w.uploads = out
	for rec := range in {
		err := w.writeRowGroup(ctx, rec)
		rec.Release()
		if err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return w.finish(ctx)
}

// writeRowGroup writes rec as one row group, then closes the file once it
// has reached the target size.
func (w *partitionWriter) writeRowGroup(ctx context.Context, rec arrow.RecordBatch) error {
	if w.cur == nil {
		f, err := w.openNext(ctx)
		if err != nil {
			return err
		}
		w.cur = f
	}
	before := w.cur.w.Size()
	if err := w.cur.pw.Write(rec); err != nil {
		return fmt.Errorf("write %s: %w", w.cur.w.Path(), err)
	}
	w.cur.rows += rec.NumRows()
	w.cur.lastKey = lastKey(rec.Column(w.pkIndex))
	w.deps.Progress.Bytes(w.cur.w.Size() - before)
	if w.cur.w.Size() >= w.p.ChunkBytes {
		return w.closeCurrent(ctx)
	}
	return nil
}

// finish closes the last file. An empty partition still gets one file, so
// that its schema is kept.
func (w *partitionWriter) finish(ctx context.Context) error {
	if w.cur == nil && len(w.files) == 0 {
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

// openFile is a data file being written. The repository spools it to a
// local file (at most one chunk, so disk use is bounded by --chunk-size and
// memory by the row group) and stores it on Commit; the checksum is
// computed while the file is written.
type openFile struct {
	w       *repo.FileWriter
	pw      *columnar.FileWriter
	rows    int64
	lastKey any // primary key of the last row written
}

func (w *partitionWriter) openNext(ctx context.Context) (*openFile, error) {
	name := fmt.Sprintf("%spart-%05d.parquet", w.prefix, w.opened)
	w.opened++
	fw, err := w.deps.Repo.CreateFile(ctx, name, w.p.Checksum, w.p.SpoolDir)
	if err != nil {
		return nil, err
	}
	f := &openFile{w: fw}
	pw, err := columnar.NewFileWriter(fw, w.sch, columnar.WriterOptions{
		Compression: w.p.Compression, Level: w.p.CompressionLevel, Metadata: w.meta,
	})
	if err != nil {
		f.abort()
		return nil, err
	}
	f.pw = pw
	return f, nil
}

// closeCurrent finishes the current file and hands it to the upload stage.
func (w *partitionWriter) closeCurrent(ctx context.Context) error {
	f := w.cur
	w.cur = nil
	if err := f.pw.Close(); err != nil {
		f.abort()
		return fmt.Errorf("write %s: %w", f.w.Path(), err)
	}
	if err := send(ctx, w.uploads, f); err != nil {
		f.abort()
		return err
	}
	return nil
}

// uploadAll stores finished files in the order they were written and
// records them for the manifest; each spool file is removed once stored or
// on failure.
func (w *partitionWriter) uploadAll(ctx context.Context, in <-chan *openFile) error {
	for f := range in {
		err := w.upload(ctx, f)
		f.abort()
		if err != nil {
			return err
		}
	}
	return nil
}

func (w *partitionWriter) upload(ctx context.Context, f *openFile) error {
	mf, err := f.w.Commit(ctx)
	if err != nil {
		return err
	}
	mf.Rows = f.rows
	w.files = append(w.files, mf)
	w.rows += f.rows
	if w.journal == nil || f.rows == 0 {
		return nil
	}
	return w.journal(ctx, f.lastKey)
}

// resume makes the writer go on from an interrupted backup's stored files
// of this partition.
func (w *partitionWriter) resume(from *partialCollection) {
	w.files = slices.Clone(from.Files)
	for _, f := range w.files {
		w.rows += f.Rows
	}
	w.opened = len(w.files)
}

// lastKey returns the last value of a primary-key column (int64 or
// string), nil when it is empty or of another type.
func lastKey(col arrow.Array) any {
	n := col.Len()
	if n == 0 {
		return nil
	}
	switch a := col.(type) {
	case *array.Int64:
		return a.Value(n - 1)
	case *array.String:
		return a.Value(n - 1)
	case *array.LargeString:
		return a.Value(n - 1)
	}
	return nil
}

// abort removes the spool file; it is also how a stored file's spool is
// cleaned up.
func (f *openFile) abort() { f.w.Abort() }

var safePattern = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_-]*$`)

// safeName keeps Milvus names readable in paths and hex-encodes any other.
func safeName(s string) string {
	if safePattern.MatchString(s) && len(s) <= 200 {
		return s
	}
	return fmt.Sprintf("x%x", s)
}
