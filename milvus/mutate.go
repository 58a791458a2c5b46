package milvus

import (
	"context"
	"fmt"

	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
)

// UpsertMessage sends an UpsertRequest as it is (a replayed write) and
// returns the server's timestamp of it.
func (c *Client) UpsertMessage(ctx context.Context, req *milvuspb.UpsertRequest) (uint64, error) {
	resp, err := c.svc.Upsert(ctx, req)
	if err := check(resp, err); err != nil {
		return 0, fmt.Errorf("upsert into %s.%s: %w", req.GetDbName(), req.GetCollectionName(), err)
	}
	return resp.GetTimestamp(), nil
}

// DeleteMessage sends a DeleteRequest as it is (a replayed write) and
// returns the server's timestamp of it.
func (c *Client) DeleteMessage(ctx context.Context, req *milvuspb.DeleteRequest) (uint64, error) {
	resp, err := c.svc.Delete(ctx, req)
	if err := check(resp, err); err != nil {
		return 0, fmt.Errorf("delete from %s.%s: %w", req.GetDbName(), req.GetCollectionName(), err)
	}
	return resp.GetTimestamp(), nil
}
