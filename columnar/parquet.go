package columnar

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
)

// arrowSchemaKey is the footer key under which pqarrow stores the Arrow
// schema; Metadata leaves it out because it is not the caller's.
const arrowSchemaKey = "ARROW:schema"

// defaultZstdLevel is the zstd level used when WriterOptions.Level is 0.
const defaultZstdLevel = 3

// WriterOptions configures NewFileWriter.
type WriterOptions struct {
	// Compression is "zstd", the default when empty, or "none".
	Compression string
	// Level is the zstd level, 1 to 22; 0 means 3. It is ignored for "none".
	Level int
	// Metadata is stored as key-value metadata in the file footer.
	Metadata map[string]string
}

// FileWriter writes records as one Parquet file.
type FileWriter struct {
	pw *pqarrow.FileWriter
	cw *countingWriter
}

// NewFileWriter starts a Parquet file with schema sch on w. Every Write adds
// at least one row group. Close finishes the file but does not close w.
func NewFileWriter(w io.Writer, sch *arrow.Schema, opts WriterOptions) (*FileWriter, error) {
	props, err := writerProperties(sch, opts)
	if err != nil {
		return nil, err
	}
	cw := &countingWriter{w: w}
	pw, err := pqarrow.NewFileWriter(sch, cw, props, pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		return nil, fmt.Errorf("new parquet writer: %w", err)
	}
	keys := make([]string, 0, len(opts.Metadata))
	for k := range opts.Metadata {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := pw.AppendKeyValueMetadata(k, opts.Metadata[k]); err != nil {
			return nil, fmt.Errorf("new parquet writer: metadata %q: %w", k, err)
		}
	}
	return &FileWriter{pw: pw, cw: cw}, nil
}

// writerProperties turns opts into Parquet writer properties. Dictionary
// encoding and min/max statistics are turned off for list columns: vectors
// never repeat enough to gain from a dictionary, and nothing prunes on the
// smallest and largest element of a vector (computing them cost ~7 % of a
// backup's CPU).
func writerProperties(sch *arrow.Schema, opts WriterOptions) (*parquet.WriterProperties, error) {
	var props []parquet.WriterProperty
	switch opts.Compression {
	case "", "zstd":
		level := opts.Level
		if level == 0 {
			level = defaultZstdLevel
		}
		if level < 1 || level > 22 {
			return nil, fmt.Errorf("new parquet writer: zstd level %d is not in [1, 22]", level)
		}
		props = append(props, parquet.WithCompression(compress.Codecs.Zstd), parquet.WithCompressionLevel(level))
	case "none":
		props = append(props, parquet.WithCompression(compress.Codecs.Uncompressed))
	default:
		return nil, fmt.Errorf("new parquet writer: unknown compression %q (want zstd or none)", opts.Compression)
	}
	for _, f := range sch.Fields() {
		if f.Type.ID() == arrow.LIST {
			props = append(props, parquet.WithDictionaryFor(f.Name+".list.element", false),
				parquet.WithStatsFor(f.Name+".list.element", false))
		}
	}
	return parquet.NewWriterProperties(props...), nil
}

// Write adds rec to the file as one or more row groups.
func (w *FileWriter) Write(rec arrow.RecordBatch) error {
	if err := w.pw.Write(rec); err != nil {
		return fmt.Errorf("write parquet: %w", err)
	}
	return nil
}

// BytesWritten returns how many bytes have been passed to the underlying
// writer so far.
func (w *FileWriter) BytesWritten() int64 { return w.cw.n }

// Close writes the file footer. It does not close the underlying writer.
func (w *FileWriter) Close() error {
	if err := w.pw.Close(); err != nil {
		return fmt.Errorf("close parquet: %w", err)
	}
	return nil
}

// countingWriter counts the bytes passed to w. It deliberately has no Close
// method, so that closing the Parquet writer leaves w open.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// FileReader reads the records of one backup file.
type FileReader struct {
	pf     *file.Reader
	rr     pqarrow.RecordReader
	schema *arrow.Schema
	meta   map[string]string
}

// OpenFile opens the Parquet file r for reading records of at most
// batchRows rows. It fails if the file's columns are not those of
// ArrowSchema(coll), naming the first column that differs. Close does not
// close r.
func OpenFile(ctx context.Context, r parquet.ReaderAtSeeker, coll *schemapb.CollectionSchema, batchRows int64) (*FileReader, error) {
	if batchRows <= 0 {
		return nil, fmt.Errorf("open parquet: batch size %d is not positive", batchRows)
	}
	want, err := ArrowSchema(coll)
	if err != nil {
		return nil, err
	}
	pf, err := file.NewParquetReader(readerOnly{r})
	if err != nil {
		return nil, fmt.Errorf("open parquet: %w", err)
	}
	fr, err := openRecords(ctx, pf, want, batchRows)
	if err != nil {
		pf.Close()
		return nil, err
	}
	return fr, nil
}

// openRecords checks the schema of pf and starts reading its records.
func openRecords(ctx context.Context, pf *file.Reader, want *arrow.Schema, batchRows int64) (*FileReader, error) {
	ar, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: batchRows}, memory.DefaultAllocator)
	if err != nil {
		return nil, fmt.Errorf("open parquet: %w", err)
	}
	got, err := ar.Schema()
	if err != nil {
		return nil, fmt.Errorf("open parquet: %w", err)
	}
	if err := checkSchema(want, got); err != nil {
		return nil, fmt.Errorf("open parquet: %w", err)
	}
	rr, err := ar.GetRecordReader(ctx, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("open parquet: %w", err)
	}
	return &FileReader{pf: pf, rr: rr, schema: want, meta: footerMetadata(pf)}, nil
}

// footerMetadata returns the caller's key-value metadata of pf.
func footerMetadata(pf *file.Reader) map[string]string {
	kv := pf.MetaData().KeyValueMetadata()
	meta := make(map[string]string, kv.Len())
	for i, k := range kv.Keys() {
		if k != arrowSchemaKey {
			meta[k] = kv.Values()[i]
		}
	}
	return meta
}

// readerOnly hides any Close method of the caller's reader from the Parquet
// reader, which would otherwise close it.
type readerOnly struct {
	parquet.ReaderAtSeeker
}

// Next returns the next record, which the caller must Release, or io.EOF
// after the last one. The record has the schema of ArrowSchema, so that it
// can be written to a FileWriter again.
func (r *FileReader) Next() (arrow.RecordBatch, error) {
	if r.rr.Next() {
		rec := r.rr.RecordBatch()
		return array.NewRecordBatch(r.schema, rec.Columns(), rec.NumRows()), nil
	}
	if err := r.rr.Err(); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read parquet: %w", err)
	}
	return nil, io.EOF
}

// NumRows returns the number of rows in the file.
func (r *FileReader) NumRows() int64 { return r.pf.NumRows() }

// Metadata returns the key-value metadata of the file footer.
func (r *FileReader) Metadata() map[string]string { return r.meta }

// Close releases the reader. It does not close the underlying file.
func (r *FileReader) Close() error {
	r.rr.Release()
	if err := r.pf.Close(); err != nil {
		return fmt.Errorf("close parquet: %w", err)
	}
	return nil
}
