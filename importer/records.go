package importer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"

	"github.com/milvault/milvault/errkind"
	"github.com/milvault/milvault/repo"
)

// formats are the file name extensions import reads.
var formats = map[string]bool{".parquet": true, ".jsonl": true, ".csv": true}

// records reads one file as Arrow record batches.
type records interface {
	// Schema is the file's columns; text formats give each column the
	// type of the target field of that name (utf8 for unknown names).
	Schema() *arrow.Schema
	// Next returns the next batch (released by the caller) or io.EOF.
	Next() (arrow.RecordBatch, error)
	Close() error
}

// openRecords opens a file of src by its extension.
func openRecords(ctx context.Context, src repo.Store, name string, size int64, target *schemapb.CollectionSchema, batchRows int64) (records, error) {
	switch path.Ext(name) {
	case ".jsonl":
		return openJSONL(ctx, src, name, target, batchRows)
	case ".csv":
		return openCSV(ctx, src, name, target, batchRows)
	}
	return openParquet(ctx, src, name, size, batchRows)
}

// parquetRecords reads a Parquet file with ranged reads.
type parquetRecords struct {
	pf     *file.Reader
	schema *arrow.Schema
	ar     *pqarrow.FileReader
	rr     pqarrow.RecordReader
	ctx    context.Context
}

func openParquet(ctx context.Context, src repo.Store, name string, size int64, batchRows int64) (*parquetRecords, error) {
	pf, err := file.NewParquetReader(repo.OpenRandom(ctx, src, name, size))
	if err != nil {
		return nil, errkind.Wrap(errkind.Usage, fmt.Errorf("not a Parquet file: %w", err))
	}
	ar, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: batchRows}, memory.DefaultAllocator)
	if err == nil {
		var sch *arrow.Schema
		if sch, err = ar.Schema(); err == nil {
			return &parquetRecords{pf: pf, schema: sch, ar: ar, ctx: ctx}, nil
		}
	}
	pf.Close()
	return nil, fmt.Errorf("read parquet schema: %w", err)
}

func (p *parquetRecords) Schema() *arrow.Schema { return p.schema }

func (p *parquetRecords) Next() (arrow.RecordBatch, error) {
	if p.rr == nil {
		rr, err := p.ar.GetRecordReader(p.ctx, nil, nil)
		if err != nil {
			return nil, err
		}
		p.rr = rr
	}
	if p.rr.Next() {
		rec := p.rr.RecordBatch()
		rec.Retain()
		return rec, nil
	}
	if err := p.rr.Err(); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return nil, io.EOF
}

func (p *parquetRecords) Close() error {
	if p.rr != nil {
		p.rr.Release()
	}
	return p.pf.Close()
}

// drain reads every batch of r, to find bad values before anything is
// written.
func drain(r records) error {
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		rec.Release()
	}
}
