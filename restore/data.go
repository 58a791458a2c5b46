package restore

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
	"golang.org/x/sync/errgroup"

	"github.com/milvault/milvault/columnar"
	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/milvus"
)

// insertBatch is one Insert call's worth of columns.
type insertBatch struct {
	partition string
	fields    []*schemapb.FieldData
	rows      int
}

// insertData streams every file of the job into the target collection with
// p.Workers concurrent Insert calls, flushes, and checks the row count.
func insertData(ctx context.Context, deps Deps, p Params, j *job) (int64, error) {
	var want int64
	for _, part := range j.partitions {
		want += part.Rows
	}
	deps.Progress.Phase(fmt.Sprintf("restore %s -> %s.%s", j.src.QualifiedName(), j.database, j.name), want, 0)
	g, gctx := errgroup.WithContext(ctx)
	batches := make(chan insertBatch, p.Workers)
	g.Go(func() error {
		defer close(batches)
		return readAll(gctx, deps, p, j, batches)
	})
	for range p.Workers {
		g.Go(func() error { return insertWorker(gctx, deps, j, batches) })
	}
	if err := g.Wait(); err != nil {
		return 0, err
	}
	return checkRows(ctx, deps, j, want)
}

// checkRows flushes the restored collection and checks that it holds the
// backup's want rows.
func checkRows(ctx context.Context, deps Deps, j *job, want int64) (int64, error) {
	if _, err := deps.Milvus.Flush(ctx, j.database, j.name); err != nil {
		return 0, err
	}
	// The flushed statistic counts inserted rows without needing a load; a
	// fresh collection has no deletes, so it must equal the backup's rows.
	got, err := deps.Milvus.RowCount(ctx, j.database, j.name)
	if err != nil {
		return 0, err
	}
	if got != want {
		return 0, fmt.Errorf("restored %d rows into %s.%s, but the backup holds %d", got, j.database, j.name, want)
	}
	return got, nil
}

func insertWorker(ctx context.Context, deps Deps, j *job, batches <-chan insertBatch) error {
	for b := range batches {
		if err := deps.Milvus.Insert(ctx, j.database, j.name, b.partition, b.fields, b.rows); err != nil {
			return err
		}
		deps.Progress.Rows(int64(b.rows))
	}
	return nil
}

// BatchRows is the number of rows per Insert call for a collection with
// schema s when each call should carry about batchBytes of raw data.
func BatchRows(s *schemapb.CollectionSchema, batchBytes int64) int64 {
	return max(1, batchBytes/int64(milvus.EstimateRowBytes(s)))
}

// readAll reads the job's files in order and sends insert batches.
func readAll(ctx context.Context, deps Deps, p Params, j *job, out chan<- insertBatch) error {
	batchRows := BatchRows(j.schema, p.BatchBytes)
	for _, part := range j.partitions {
		target := part.Name
		if j.src.PartitionKey {
			target = ""
		}
		for _, f := range part.Files {
			if err := readFile(ctx, deps, j, f, target, batchRows, out); err != nil {
				return fmt.Errorf("read %s: %w", f.Path, err)
			}
		}
	}
	return nil
}

// readFile reads one file of the job and sends its rows as insert batches.
func readFile(ctx context.Context, deps Deps, j *job, f manifest.File, partition string, batchRows int64, out chan<- insertBatch) error {
	dropKey := keyToDrop(j.schema)
	return deps.Repo.EachRecord(ctx, j.schema, f, batchRows, func(rec arrow.RecordBatch) error {
		fields, err := columnar.ToFieldData(j.schema, rec)
		if err != nil || rec.NumRows() == 0 {
			return err
		}
		select {
		case out <- insertBatch{partition: partition, fields: withoutField(fields, dropKey), rows: int(rec.NumRows())}:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
}

// keyToDrop names the primary key when the server generates keys (the
// stored keys cannot be inserted), else "".
func keyToDrop(s *schemapb.CollectionSchema) string {
	if pk := milvus.PrimaryField(s); pk != nil && pk.GetAutoID() {
		return pk.GetName()
	}
	return ""
}

func withoutField(fields []*schemapb.FieldData, name string) []*schemapb.FieldData {
	if name == "" {
		return fields
	}
	out := fields[:0]
	for _, f := range fields {
		if f.GetFieldName() != name {
			out = append(out, f)
		}
	}
	return out
}
