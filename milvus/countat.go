package milvus

import (
	"context"
	"fmt"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
)

// CountAt returns count(*) of a loaded collection once every write up to
// hybrid timestamp ts is visible (ts 0: strong consistency, every write
// acknowledged before the call). A flush's timestamp is usually visible
// already, so the query does not wait for the server's next time tick as a
// strong one does (about 0.2 s on Milvus 2.3). Rows written after ts may be
// counted too: Milvus 2.3 counts what its query nodes hold.
func (c *Client) CountAt(ctx context.Context, db, coll string, ts uint64) (int64, error) {
	req := &milvuspb.QueryRequest{DbName: db, CollectionName: coll, OutputFields: []string{"count(*)"},
		ConsistencyLevel: commonpb.ConsistencyLevel_Strong}
	if ts != 0 {
		// The proxy uses the request's guarantee timestamp as given for
		// the Customized level.
		req.ConsistencyLevel, req.GuaranteeTimestamp = commonpb.ConsistencyLevel_Customized, ts
	}
	return c.count(ctx, req)
}

// count runs a count(*) query and reads its one value.
func (c *Client) count(ctx context.Context, req *milvuspb.QueryRequest) (int64, error) {
	resp, err := c.svc.Query(ctx, req)
	if err := check(resp, err); err != nil {
		return 0, fmt.Errorf("count rows of %s.%s: %w", req.GetDbName(), req.GetCollectionName(), err)
	}
	for _, f := range resp.GetFieldsData() {
		if d := f.GetScalars().GetLongData().GetData(); len(d) > 0 {
			return d[0], nil
		}
	}
	return 0, fmt.Errorf("count rows of %s.%s: the server returned no count", req.GetDbName(), req.GetCollectionName())
}
