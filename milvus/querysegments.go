package milvus

import (
	"context"
	"fmt"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
)

// QuerySegment is one segment a query node holds, as the server describes it.
type QuerySegment struct {
	ID        int64
	Partition int64
	Rows      int64
	Sealed    bool    // sealed or flushed: no longer growing
	Nodes     []int64 // query nodes holding it
}

// QuerySegments returns the segments the query nodes hold for a loaded
// collection (GetQuerySegmentInfo), with their row counts: the segments a
// scan reads. The server gives no key ranges for them.
func (c *Client) QuerySegments(ctx context.Context, db, coll string) ([]QuerySegment, error) {
	resp, err := c.svc.GetQuerySegmentInfo(ctx, &milvuspb.GetQuerySegmentInfoRequest{DbName: db, CollectionName: coll})
	if err := check(resp, err); err != nil {
		return nil, fmt.Errorf("segments of %s.%s: %w", db, coll, err)
	}
	out := make([]QuerySegment, 0, len(resp.GetInfos()))
	for _, s := range resp.GetInfos() {
		out = append(out, QuerySegment{ID: s.GetSegmentID(), Partition: s.GetPartitionID(), Rows: s.GetNumRows(),
			Sealed: s.GetState() == commonpb.SegmentState_Sealed || s.GetState() == commonpb.SegmentState_Flushed,
			Nodes:  append([]int64{s.GetNodeID()}, s.GetNodeIds()...)})
	}
	return out, nil
}
