package verify

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"

	"github.com/milvault/milvault/columnar"
	"github.com/milvault/milvault/milvus"
)

// PartitionDigest summarizes the rows of one partition.
type PartitionDigest struct {
	Partition string `json:"partition"`
	Rows      int64  `json:"rows"`
	SHA256    string `json:"sha256"` // order-independent hash of the rows (see setHash)
}

// Digest reads a collection partition by partition and hashes a canonical
// text form of every stored field of every row, independent of row order.
// Two collections with the same rows (same keys, same values, same
// partitions) have equal digests, whatever their names or segment layout.
// Partition-key collections are hashed as one pseudo-partition "_all".
func Digest(ctx context.Context, c *milvus.Client, db, coll string) ([]PartitionDigest, error) {
	desc, err := c.Describe(ctx, db, coll)
	if err != nil {
		return nil, err
	}
	schema := desc.GetSchema()
	parts := []string{""}
	if !milvus.HasPartitionKey(schema) {
		if parts, err = c.Partitions(ctx, db, coll); err != nil {
			return nil, err
		}
	}
	var out []PartitionDigest
	for _, p := range parts {
		d, err := digestPartition(ctx, c, db, coll, schema, p)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

func digestPartition(ctx context.Context, c *milvus.Client, db, coll string, schema *schemapb.CollectionSchema, part string) (PartitionDigest, error) {
	b, err := columnar.NewBuilder(memory.DefaultAllocator, schema)
	if err != nil {
		return PartitionDigest{}, err
	}
	defer b.Release()
	var h setHash
	req := milvus.ScanRequest{Database: db, Collection: coll, PrimaryKey: milvus.PrimaryField(schema),
		BatchRows: max(64, min(16384, (4<<20)/milvus.EstimateRowBytes(schema)))}
	if part != "" {
		req.Partitions = []string{part}
	}
	res, err := c.Scan(ctx, req, func(batch milvus.Batch) error {
		if err := b.Append(batch.Fields, batch.Rows); err != nil {
			return err
		}
		rec := b.NewRecord()
		defer rec.Release()
		h.addRecord(rec)
		return nil
	})
	if err != nil {
		return PartitionDigest{}, fmt.Errorf("digest %s.%s: %w", db, coll, err)
	}
	if part == "" {
		part = "_all"
	}
	return PartitionDigest{Partition: part, Rows: res.Rows, SHA256: h.hex()}, nil
}
