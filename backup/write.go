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
// pipeline, so that reading, encoding and storing overlap:
//
//	scan (Query RPCs, protobuf decoding) -> batches ->
//	append (copy into Arrow builders) -> row groups ->
//	cut (assign row groups to files) -> encode (Parquet, compression,
//	checksum, spool file; one goroutine per file, up to EncodeWorkers at
//	once; encode.go) -> files, in order ->
//	store (store Put: copy and fsync, or network upload)
//
// Memory is bounded whatever the partition's size: about two query
// batches, the row group being built and, per file in flight, its queued
// row groups (see encode.go); at most EncodeWorkers+1 spool files exist at
// a time. The first error of any stage cancels the others, and every spool
// file of the partition not yet stored is removed.
func writePartition(ctx context.Context, deps Deps, p Params, m *manifest.Manifest, c *captured, part string, jr *journaler, from *partialCollection) (manifest.Partition, error) {
	w, err := newPartitionWriter(deps, p, m, c, part)
	if err != nil {
		return manifest.Partition{}, err
	}
	defer w.release()
	if jr != nil {
		w.journal = func(ctx context.Context, lastKey any) error { return jr.fileStored(ctx, part, w.files, lastKey) }
	}
	req := partitionScan(p, c, part)
	if from != nil {
		w.resume(from)
		req.After = from.LastKey.value()
	}
	check := startRowCheck(ctx, deps, p, c, part, from != nil)
	res, err := w.run(ctx, req)
	if err != nil {
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

// partitionScan is the scan request of partition part of c, within the
// shard's key range when p is a shard's.
func partitionScan(p Params, c *captured, part string) milvus.ScanRequest {
	req := scanRequest(p, c, part)
	req.BatchRows = p.QueryBatchRows
	if req.BatchRows == 0 {
		req.BatchRows = BatchRows(c.schema)
	}
	if req.Workers == 0 {
		req.Workers = milvus.AutoWorkers
	}
	req.After, req.Until = p.after, p.until // a shard's key range (shard.go)
	return req
}

// run runs the pipeline of one partition.
func (w *partitionWriter) run(ctx context.Context, req milvus.ScanRequest) (milvus.ScanResult, error) {
	g, gctx := errgroup.WithContext(ctx)
	batches := make(chan milvus.Batch)
	groups := make(chan rowGroup)
	order := make(chan *fileJob, cap(w.slots))
	var res milvus.ScanResult
	g.Go(func() error {
		defer close(batches)
		var err error
		res, err = w.deps.Milvus.Scan(gctx, req, func(b milvus.Batch) error { return send(gctx, batches, b) })
		return err
	})
	g.Go(func() error {
		defer close(groups)
		return w.appendAll(gctx, batches, groups)
	})
	g.Go(func() error {
		defer close(order)
		return w.cutFiles(gctx, g, groups, order)
	})
	g.Go(func() error { return w.storeAll(gctx, order) })
	if err := g.Wait(); err != nil {
		for rg := range groups {
			rg.rec.Release()
		}
		w.abortJobs()
		return res, err
	}
	return res, nil
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
	slots   chan struct{}   // one per file being encoded or waiting to be stored
	queue   int             // row groups a file queues before its encoder takes them
	opened  int             // files started so far (cut stage)
	jobs    []*fileJob      // files started by this run (cut stage; read after the pipeline ends)
	files   []manifest.File // stored files (store stage)
	rows    int64
	pkIndex int // column of the primary key in row groups
	// journal, when set, records progress after each stored file (store
	// stage), given the last key of that file.
	journal func(ctx context.Context, lastKey any) error
	// fault, when set (tests), fails the encode of a file once it is
	// written, given its number.
	fault func(index int) error
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
	workers := p.EncodeWorkers
	if workers == 0 {
		workers = DefaultEncodeWorkers()
	}
	return &partitionWriter{
		deps: deps, p: p, sch: sch, builder: b, pkIndex: pkIndex[0], fault: p.encodeFault,
		slots: make(chan struct{}, workers), queue: fileQueue(workers, p.ChunkBytes),
		prefix: manifest.DataPrefix(m.ID) + safeName(c.Database) + "/" + safeName(c.Name) + "/" + safeName(part) + "/" + p.shardDir,
		meta:   map[string]string{"milvault.backup_id": m.ID, "milvault.database": c.Database, "milvault.collection": c.Name, "milvault.partition": part},
	}, nil
}

// fileQueue is how many row groups a file may queue for its encoder: none
// with one worker (the hand-off is direct, as in a plain pipeline), else a
// whole file's worth, so that the cut stage can move on to the next file
// (and the next worker) while this one is still being encoded.
func fileQueue(workers int, chunkBytes int64) int {
	if workers <= 1 {
		return 0
	}
	target := rowGroupTarget(chunkBytes)
	return int((chunkBytes + target - 1) / target)
}

// rowGroupTarget is the raw size at which the append stage cuts a row
// group.
func rowGroupTarget(chunkBytes int64) int64 { return min(rowGroupBytes, chunkBytes) }

// appendAll copies query batches into the Arrow builders and cuts a row
// group whenever about rowGroupBytes (or --chunk-size, if smaller) are
// buffered, and once more at the end.
func (w *partitionWriter) appendAll(ctx context.Context, in <-chan milvus.Batch, out chan<- rowGroup) error {
	cut := func() error {
		if w.builder.Rows() == 0 {
			return nil
		}
		rg := rowGroup{raw: w.builder.EstimatedBytes()}
		rg.rec = w.builder.NewRecord()
		if err := send(ctx, out, rg); err != nil {
			rg.rec.Release()
			return err
		}
		return nil
	}
	for b := range in {
		if err := w.builder.Append(b.Fields, b.Rows); err != nil {
			return err
		}
		w.deps.Progress.Rows(int64(b.Rows))
		if w.builder.EstimatedBytes() >= rowGroupTarget(w.p.ChunkBytes) {
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

func (w *partitionWriter) release() { w.builder.Release() }

// openFile is a data file being written. The repository spools it to a
// local file (at most about one chunk, so disk use is bounded by
// --chunk-size and the number of files in flight) and stores it on Commit;
// the checksum is computed while the file is written.
type openFile struct {
	w       *repo.FileWriter
	pw      *columnar.FileWriter
	rows    int64
	lastKey any // primary key of the last row written
}

// openNext starts file number index of the partition.
func (w *partitionWriter) openNext(ctx context.Context, index int) (*openFile, error) {
	name := fmt.Sprintf("%spart-%05d.parquet", w.prefix, index)
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
