package milvus

import (
	"context"
	"fmt"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
)

// CountWhere returns how many rows of a collection (or of one partition,
// when partition is set) match a filter expression, with strong
// consistency; an empty expr counts every row. The collection must be
// loaded.
func (c *Client) CountWhere(ctx context.Context, db, coll, partition, expr string) (int64, error) {
	req := &milvuspb.QueryRequest{
		DbName: db, CollectionName: coll, Expr: expr, OutputFields: []string{"count(*)"},
		ConsistencyLevel: commonpb.ConsistencyLevel_Strong,
	}
	if partition != "" {
		req.PartitionNames = []string{partition}
	}
	resp, err := c.svc.Query(ctx, req)
	if err := check(resp, err); err != nil {
		return 0, fmt.Errorf("count rows of %s.%s matching %q: %w", db, coll, expr, err)
	}
	for _, f := range resp.GetFieldsData() {
		if d := f.GetScalars().GetLongData().GetData(); len(d) > 0 {
			return d[0], nil
		}
	}
	return 0, fmt.Errorf("count rows of %s.%s matching %q: the server returned no count", db, coll, expr)
}
