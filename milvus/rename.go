package milvus

import (
	"context"
	"fmt"

	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"google.golang.org/grpc"
)

// Wrap returns a Client over a connection the caller dialled (and closes).
// Its calls carry only the metadata of their context: the guard uses it to
// act on the server with the credentials of the application whose call it
// intercepted.
func Wrap(conn *grpc.ClientConn, address string) *Client {
	return &Client{conn: conn, svc: milvuspb.NewMilvusServiceClient(conn), addr: address}
}

// RenameCollection renames a collection within its database. The new
// name's database is given too: Milvus 2.3.5 reads an empty one as
// "default" and would move a collection of another database there.
func (c *Client) RenameCollection(ctx context.Context, db, from, to string) error {
	resp, err := c.svc.RenameCollection(ctx, &milvuspb.RenameCollectionRequest{DbName: db, OldName: from, NewName: to, NewDBName: db})
	if err := check(wrapStatus(resp), err); err != nil {
		return fmt.Errorf("rename collection %s.%s to %s: %w", db, from, to, err)
	}
	return nil
}
