package verify

import (
	"cmp"
	"context"
	"errors"
	"fmt"
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

// maxDiffs bounds the row differences listed per partition.
const maxDiffs = 20

// RowDiff is one row that differs between the backup and a collection.
type RowDiff struct {
	Key     string `json:"key"`
	Problem string `json:"problem"` // "missing", "extra", "different"
}

// PartitionCheck compares one partition.
type PartitionCheck struct {
	Partition  string    `json:"partition"`
	BackupRows int64     `json:"backup_rows"`
	LiveRows   int64     `json:"live_rows"`
	Match      bool      `json:"match"`
	Diffs      []RowDiff `json:"diffs,omitempty"`
}

// CollectionCheck compares a live collection with a collection of a backup.
type CollectionCheck struct {
	Backup     string           `json:"backup_collection"`
	Live       string           `json:"live_collection"`
	Match      bool             `json:"match"`
	Partitions []PartitionCheck `json:"partitions"`
}

// CompareWithBackup compares every row of the live collection db.name with
// the backup's collection mc, partition by partition: order-independent
// hashes first, then, for partitions that differ, a row-level diff by
// primary key (up to 20 rows per partition).
func CompareWithBackup(ctx context.Context, r *repo.Repository, c *milvus.Client, mc *manifest.Collection, db, name string) (*CollectionCheck, error) {
	schema, err := mc.DecodeSchema()
	if err != nil {
		return nil, err
	}
	live, err := Digest(ctx, c, db, name)
	if err != nil {
		return nil, err
	}
	cc := &CollectionCheck{Backup: mc.QualifiedName(), Live: db + "." + name, Match: true}
	for _, p := range mc.Partitions {
		pc, err := comparePartition(ctx, r, c, schema, p, live, db, name)
		if err != nil {
			return nil, err
		}
		cc.Match = cc.Match && pc.Match
		cc.Partitions = append(cc.Partitions, *pc)
	}
	return cc, nil
}

func comparePartition(ctx context.Context, r *repo.Repository, c *milvus.Client, schema *schemapb.CollectionSchema, p manifest.Partition, live []PartitionDigest, db, name string) (*PartitionCheck, error) {
	want, err := backupDigest(ctx, r, schema, p)
	if err != nil {
		return nil, err
	}
	pc := &PartitionCheck{Partition: p.Name, BackupRows: want.Rows}
	i := slices.IndexFunc(live, func(d PartitionDigest) bool { return d.Partition == p.Name })
	if i >= 0 {
		pc.LiveRows = live[i].Rows
		pc.Match = live[i].SHA256 == want.SHA256 && live[i].Rows == want.Rows
	}
	if !pc.Match {
		if pc.Diffs, err = diffPartition(ctx, r, c, schema, p, db, name); err != nil {
			return nil, err
		}
	}
	return pc, nil
}

// diffPartition lists rows that differ, by primary key, with a merge-join
// of the backup's files and a scan of the live partition: both are in
// ascending key order, so memory stays bounded by a batch on each side.
func diffPartition(ctx context.Context, r *repo.Repository, c *milvus.Client, schema *schemapb.CollectionSchema, p manifest.Partition, db, name string) ([]RowDiff, error) {
	g, gctx := errgroup.WithContext(ctx)
	gctx, stop := context.WithCancel(gctx)
	defer stop()
	backup, live := make(chan keyedRow, 256), make(chan keyedRow, 256)
	pk := milvus.PrimaryField(schema).GetName()
	g.Go(func() error { defer close(backup); return backupRows(gctx, r, schema, p, pk, backup) })
	g.Go(func() error { defer close(live); return liveRows(gctx, c, schema, db, name, p.Name, live) })
	diffs := mergeDiff(backup, live)
	stop()
	for range backup {
	}
	for range live {
	}
	if err := g.Wait(); err != nil && ctx.Err() == nil && len(diffs) < maxDiffs && !errors.Is(err, context.Canceled) {
		return nil, err
	}
	return diffs, nil
}

// keyedRow is one row's primary key (int64 or string) and canonical text.
type keyedRow struct {
	key  any
	text string
}

func send(ctx context.Context, out chan<- keyedRow, rec arrow.RecordBatch, pk string) error {
	idx := rec.Schema().FieldIndices(pk)
	if len(idx) == 0 {
		return fmt.Errorf("no primary key column %q", pk)
	}
	keys := rec.Column(idx[0])
	for i := 0; i < int(rec.NumRows()); i++ {
		row := keyedRow{key: KeyAt(keys, i), text: rowText(rec, i)}
		select {
		case out <- row:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// KeyAt returns row i of a primary-key column as int64 or string.
func KeyAt(col arrow.Array, i int) any {
	switch a := col.(type) {
	case *array.Int64:
		return a.Value(i)
	case *array.String:
		return a.Value(i)
	}
	return col.ValueStr(i)
}

func backupRows(ctx context.Context, r *repo.Repository, schema *schemapb.CollectionSchema, p manifest.Partition, pk string, out chan<- keyedRow) error {
	for _, f := range p.Files {
		err := eachRecord(ctx, r, schema, f, func(rec arrow.RecordBatch) error { return send(ctx, out, rec, pk) })
		if err != nil {
			return fmt.Errorf("%s: %w", f.Path, err)
		}
	}
	return nil
}

func liveRows(ctx context.Context, c *milvus.Client, schema *schemapb.CollectionSchema, db, name, part string, out chan<- keyedRow) error {
	b, err := columnar.NewBuilder(memory.DefaultAllocator, schema)
	if err != nil {
		return err
	}
	defer b.Release()
	req := milvus.ScanRequest{Database: db, Collection: name, PrimaryKey: milvus.PrimaryField(schema), BatchRows: 1024}
	if !milvus.HasPartitionKey(schema) {
		req.Partitions = []string{part}
	}
	_, err = c.Scan(ctx, req, func(batch milvus.Batch) error {
		if err := b.Append(batch.Fields, batch.Rows); err != nil {
			return err
		}
		rec := b.NewRecord()
		defer rec.Release()
		return send(ctx, out, rec, req.PrimaryKey.GetName())
	})
	return err
}

// mergeDiff walks two key-ordered row streams and returns up to maxDiffs
// differences.
func mergeDiff(backup, live <-chan keyedRow) []RowDiff {
	var out []RowDiff
	b, bok := <-backup
	l, lok := <-live
	for (bok || lok) && len(out) < maxDiffs {
		switch c := compareKeys(b, l, bok, lok); {
		case c < 0:
			out = append(out, RowDiff{Key: fmt.Sprint(b.key), Problem: "missing"})
			b, bok = <-backup
		case c > 0:
			out = append(out, RowDiff{Key: fmt.Sprint(l.key), Problem: "extra"})
			l, lok = <-live
		default:
			if b.text != l.text {
				out = append(out, RowDiff{Key: fmt.Sprint(b.key), Problem: "different"})
			}
			b, bok = <-backup
			l, lok = <-live
		}
	}
	return out
}

// compareKeys orders two rows by key; an exhausted side sorts last.
func compareKeys(b, l keyedRow, bok, lok bool) int {
	switch {
	case !lok:
		return -1
	case !bok:
		return 1
	}
	switch bk := b.key.(type) {
	case int64:
		return cmp.Compare(bk, l.key.(int64))
	case string:
		return cmp.Compare(bk, l.key.(string))
	}
	return cmp.Compare(fmt.Sprint(b.key), fmt.Sprint(l.key))
}
