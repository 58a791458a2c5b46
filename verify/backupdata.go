package verify

import (
	"context"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/milvault/milvault/columnar"
	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/repo"
)

// readBatchRows is the batch size used when reading backup files.
const readBatchRows = 2048

// schemaOf decodes the schema a manifest recorded for a collection.
func schemaOf(c *manifest.Collection) (*schemapb.CollectionSchema, error) {
	s := &schemapb.CollectionSchema{}
	if err := protojson.Unmarshal(c.Schema, s); err != nil {
		return nil, fmt.Errorf("schema of %s in the manifest: %w", c.QualifiedName(), err)
	}
	return s, nil
}

// eachRecord reads a data file and calls fn for each record batch. It checks
// that the file's schema matches the collection's and that it holds the rows
// the manifest says.
func eachRecord(ctx context.Context, s repo.Store, schema *schemapb.CollectionSchema, f manifest.File, fn func(arrow.RecordBatch) error) error {
	file, cleanup, err := repo.OpenLocalFile(ctx, s, f.Path, "")
	if err != nil {
		return err
	}
	defer cleanup()
	r, err := columnar.OpenFile(ctx, file, schema, readBatchRows)
	if err != nil {
		return err
	}
	defer r.Close()
	if r.NumRows() != f.Rows {
		return fmt.Errorf("holds %d rows, manifest says %d", r.NumRows(), f.Rows)
	}
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		err = fn(rec)
		rec.Release()
		if err != nil {
			return err
		}
	}
}

// backupDigest hashes a partition's rows as stored in the backup.
func backupDigest(ctx context.Context, s repo.Store, schema *schemapb.CollectionSchema, p manifest.Partition) (PartitionDigest, error) {
	var h setHash
	for _, f := range p.Files {
		err := eachRecord(ctx, s, schema, f, func(rec arrow.RecordBatch) error {
			h.addRecord(rec)
			return nil
		})
		if err != nil {
			return PartitionDigest{}, fmt.Errorf("%s: %w", f.Path, err)
		}
	}
	return PartitionDigest{Partition: p.Name, Rows: h.rows, SHA256: h.hex()}, nil
}
