package verify

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"

	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/repo"
)

// readBatchRows is the batch size used when reading backup files.
const readBatchRows = 2048

// eachRecord reads a data file of the backup in batches of readBatchRows.
func eachRecord(ctx context.Context, r *repo.Repository, schema *schemapb.CollectionSchema, f manifest.File, fn func(arrow.RecordBatch) error) error {
	return r.EachRecord(ctx, schema, f, readBatchRows, fn)
}

// backupDigest hashes a partition's rows as stored in the backup.
func backupDigest(ctx context.Context, r *repo.Repository, schema *schemapb.CollectionSchema, p manifest.Partition) (PartitionDigest, error) {
	var h setHash
	for _, f := range p.Files {
		err := eachRecord(ctx, r, schema, f, func(rec arrow.RecordBatch) error {
			h.addRecord(rec)
			return nil
		})
		if err != nil {
			return PartitionDigest{}, fmt.Errorf("%s: %w", f.Path, err)
		}
	}
	return PartitionDigest{Partition: p.Name, Rows: h.rows, SHA256: h.hex()}, nil
}

// BackupDigest hashes the rows of every partition of collection mc as they
// are stored in the backup, reading only the repository (no server). The
// digests equal those Digest computes for a live collection holding the
// same rows in the same partitions.
func BackupDigest(ctx context.Context, r *repo.Repository, mc *manifest.Collection) ([]PartitionDigest, error) {
	schema, err := mc.DecodeSchema()
	if err != nil {
		return nil, err
	}
	out := make([]PartitionDigest, 0, len(mc.Partitions))
	for _, p := range mc.Partitions {
		d, err := backupDigest(ctx, r, schema, p)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", mc.QualifiedName(), err)
		}
		out = append(out, d)
	}
	return out, nil
}
