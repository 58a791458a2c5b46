package milvus

import (
	"context"
	"fmt"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
)

// CountRows returns count(*) of the given partitions of a loaded collection
// (all of them when partitions is empty), with strong consistency: every
// write acknowledged before the call is counted (Milvus 2.2 has no count(*):
// it fails there). Milvus 2.3 counts each copy of
// a primary key inserted more than once, where a scan returns the key once.
func (c *Client) CountRows(ctx context.Context, db, coll string, partitions []string) (int64, error) {
	resp, err := c.svc.Query(ctx, &milvuspb.QueryRequest{
		DbName: db, CollectionName: coll, PartitionNames: partitions,
		OutputFields: []string{"count(*)"}, ConsistencyLevel: commonpb.ConsistencyLevel_Strong,
	})
	if err := check(resp, err); err != nil {
		return 0, fmt.Errorf("count rows of %s.%s: %w", db, coll, err)
	}
	for _, f := range resp.GetFieldsData() {
		if d := f.GetScalars().GetLongData().GetData(); len(d) > 0 {
			return d[0], nil
		}
	}
	return 0, fmt.Errorf("count rows of %s.%s: the server returned no count", db, coll)
}
