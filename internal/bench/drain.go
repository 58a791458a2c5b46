package main

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/milvault/milvault/backup"
	"github.com/milvault/milvault/milvus"
	"github.com/milvault/milvault/restore"
)

// queryDrain reads every row of coll with the Query RPCs and batch size a
// backup uses (one scan per partition, backup.BatchRows rows per call, at
// the timestamp of a flush made before the clock starts) and
// discards them: the rate at which this server hands out this collection.
func queryDrain(ctx context.Context, c *milvus.Client, coll string) (rows int64, secs float64, err error) {
	desc, err := c.Describe(ctx, "default", coll)
	if err != nil {
		return 0, 0, err
	}
	schema := desc.GetSchema()
	parts, err := c.Partitions(ctx, "default", coll)
	if err != nil {
		return 0, 0, err
	}
	// A backup flushes first and reads every batch at the flush timestamp.
	ts, err := c.Flush(ctx, "default", coll)
	if err != nil {
		return 0, 0, err
	}
	start := time.Now()
	for _, p := range parts {
		req := milvus.ScanRequest{Database: "default", Collection: coll, Partitions: []string{p},
			PrimaryKey: milvus.PrimaryField(schema), BatchRows: backup.BatchRows(schema), GuaranteeTs: ts}
		res, err := c.Scan(ctx, req, func(milvus.Batch) error { return nil })
		if err != nil {
			return rows, 0, err
		}
		rows += res.Rows
	}
	return rows, time.Since(start).Seconds(), nil
}

// insertDrain creates coll (benchmark schema, no index) and inserts rows
// rows with the batch size and concurrency a restore uses
// (restore.BatchRows at restore.DefaultBatchBytes, restore.DefaultWorkers
// concurrent calls). The batches are built before the clock starts. It
// reports the seconds of the Insert calls alone and including the flush a
// restore also does, and the CPU seconds of this process and of the server
// up to the end of the flush.
func insertDrain(ctx context.Context, c *milvus.Client, m cpuMeter, coll string, rows int) (insertSecs, flushedSecs float64, cpu [2]float64, err error) {
	schema := benchSchema(coll)
	if err := c.CreateCollection(ctx, milvus.CreateCollectionRequest{Database: "default", Schema: schema, ShardsNum: 1}); err != nil {
		return 0, 0, cpu, err
	}
	bs, _ := batches(rows, int(restore.BatchRows(schema, restore.DefaultBatchBytes)))
	sp := m.start()
	start := time.Now()
	g, gctx := errgroup.WithContext(ctx)
	next := make(chan batch, restore.DefaultWorkers)
	g.Go(func() error {
		defer close(next)
		for _, b := range bs {
			select {
			case next <- b:
			case <-gctx.Done():
				return gctx.Err()
			}
		}
		return nil
	})
	for range restore.DefaultWorkers {
		g.Go(func() error {
			for b := range next {
				if err := c.Insert(gctx, "default", coll, "", b.fields, b.rows); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return 0, 0, cpu, err
	}
	insertSecs = time.Since(start).Seconds()
	if _, err := c.Flush(ctx, "default", coll); err != nil {
		return 0, 0, cpu, err
	}
	flushedSecs = time.Since(start).Seconds()
	cpu[0], cpu[1] = sp.end()
	got, err := c.RowCount(ctx, "default", coll)
	if err != nil {
		return 0, 0, cpu, err
	}
	if got != int64(rows) {
		return 0, 0, cpu, fmt.Errorf("raw insert: %d rows flushed, want %d", got, rows)
	}
	return insertSecs, flushedSecs, cpu, nil
}
