package milvus

import (
	"context"
	"fmt"
	"strings"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
)

// CountRows returns count(*) of the given partitions of a loaded collection
// (all of them when partitions is empty), with strong consistency: every
// write acknowledged before the call is counted (Milvus 2.2 has no count(*):
// it fails there). Milvus 2.3 counts each copy of
// a primary key inserted more than once, where a scan returns the key once.
//
// Milvus Lite 3 counts the whole collection whatever the partitions asked
// for, so CountRows refuses partitions there.
func (c *Client) CountRows(ctx context.Context, db, coll string, partitions []string) (int64, error) {
	if len(partitions) > 0 && strings.HasPrefix(c.version, "milvus_lite-") {
		return 0, fmt.Errorf("count rows of %s.%s: Milvus Lite counts the whole collection, not partitions %v", db, coll, partitions)
	}
	return c.count(ctx, &milvuspb.QueryRequest{
		DbName: db, CollectionName: coll, PartitionNames: partitions,
		OutputFields: []string{"count(*)"}, ConsistencyLevel: commonpb.ConsistencyLevel_Strong,
	})
}
