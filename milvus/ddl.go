package milvus

import (
	"context"
	"fmt"

	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
)

// DropPartition drops a partition and its rows. Milvus 2.3 drops only a
// released partition, so it is released first (a no-op when it is not
// loaded).
func (c *Client) DropPartition(ctx context.Context, db, coll, partition string) error {
	st, err := c.svc.ReleasePartitions(ctx, &milvuspb.ReleasePartitionsRequest{DbName: db, CollectionName: coll, PartitionNames: []string{partition}})
	if err := check(wrapStatus(st), err); err != nil {
		return fmt.Errorf("release partition %s of %s.%s before dropping it: %w", partition, db, coll, err)
	}
	st, err = c.svc.DropPartition(ctx, &milvuspb.DropPartitionRequest{DbName: db, CollectionName: coll, PartitionName: partition})
	if err := check(wrapStatus(st), err); err != nil {
		return fmt.Errorf("drop partition %s of %s.%s: %w", partition, db, coll, err)
	}
	return nil
}

// DropIndex drops the index name of field (either may be empty when the
// collection has one index). Milvus 2.3 drops only the index of a
// released collection, so it is released first.
func (c *Client) DropIndex(ctx context.Context, db, coll, field, name string) error {
	if err := c.Release(ctx, db, coll); err != nil {
		return err
	}
	st, err := c.svc.DropIndex(ctx, &milvuspb.DropIndexRequest{DbName: db, CollectionName: coll, FieldName: field, IndexName: name})
	if err := check(wrapStatus(st), err); err != nil {
		return fmt.Errorf("drop index %s of %s.%s: %w", name, db, coll, err)
	}
	return nil
}
