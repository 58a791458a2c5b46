package milvus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
	"google.golang.org/protobuf/proto"

	"github.com/milvault/milvault/internal/clock"
)

// CreateDatabase creates db when it does not exist yet.
func (c *Client) CreateDatabase(ctx context.Context, db string) error {
	err := c.CheckDatabase(ctx, db)
	var dnf *DatabaseNotFoundError
	switch {
	case err == nil:
		return nil
	case !errors.As(err, &dnf) && (db == "" || db == "default"):
		return nil // every server has it; a user may lack ListDatabases
	case !errors.As(err, &dnf):
		return err // e.g. ListDatabases not granted: do not guess
	}
	resp, err := c.svc.CreateDatabase(ctx, &milvuspb.CreateDatabaseRequest{DbName: db})
	if err := check(wrapStatus(resp), err); err != nil {
		return fmt.Errorf("create database %s: %w", db, err)
	}
	return nil
}

// statusOnly adapts a bare *commonpb.Status to statusResponse.
type statusOnly struct{ st *commonpb.Status }

func (s statusOnly) GetStatus() *commonpb.Status { return s.st }

func wrapStatus(st *commonpb.Status) statusResponse { return statusOnly{st} }

// CreateCollectionRequest describes a collection to create.
type CreateCollectionRequest struct {
	Database         string
	Schema           *schemapb.CollectionSchema // Name is the new collection's name
	ShardsNum        int32
	ConsistencyLevel commonpb.ConsistencyLevel
	Properties       map[string]string
	NumPartitions    int64 // for partition-key collections
}

// CreateCollection creates a collection from a schema as the server
// described it. Fields the server adds by itself (the dynamic "$meta" field)
// and server-assigned ids are removed first.
func (c *Client) CreateCollection(ctx context.Context, req CreateCollectionRequest) error {
	schema := CreatableSchema(req.Schema)
	data, err := proto.Marshal(schema)
	if err != nil {
		return fmt.Errorf("create collection %s: %w", schema.GetName(), err)
	}
	r := &milvuspb.CreateCollectionRequest{
		DbName:           req.Database,
		CollectionName:   schema.GetName(),
		Schema:           data,
		ShardsNum:        req.ShardsNum,
		ConsistencyLevel: req.ConsistencyLevel,
		NumPartitions:    req.NumPartitions,
	}
	for k, v := range req.Properties {
		r.Properties = append(r.Properties, &commonpb.KeyValuePair{Key: k, Value: v})
	}
	resp, err := c.svc.CreateCollection(ctx, r)
	if err := check(wrapStatus(resp), err); err != nil {
		return fmt.Errorf("create collection %s.%s: %w", req.Database, schema.GetName(), err)
	}
	return nil
}

// CreatableSchema returns a copy of s fit for CreateCollection: without the
// server-managed dynamic field and without server-assigned field ids.
func CreatableSchema(s *schemapb.CollectionSchema) *schemapb.CollectionSchema {
	out := proto.Clone(s).(*schemapb.CollectionSchema)
	out.Fields = out.Fields[:0]
	for _, f := range s.GetFields() {
		if f.GetIsDynamic() {
			continue
		}
		f = proto.Clone(f).(*schemapb.FieldSchema)
		f.FieldID = 0
		out.Fields = append(out.Fields, f)
	}
	for _, fn := range out.GetFunctions() {
		fn.Id = 0
		fn.InputFieldIds = nil
		fn.OutputFieldIds = nil
	}
	return out
}

// CreatePartition creates a partition.
func (c *Client) CreatePartition(ctx context.Context, db, coll, partition string) error {
	resp, err := c.svc.CreatePartition(ctx, &milvuspb.CreatePartitionRequest{DbName: db, CollectionName: coll, PartitionName: partition})
	if err := check(wrapStatus(resp), err); err != nil {
		return fmt.Errorf("create partition %s of %s.%s: %w", partition, db, coll, err)
	}
	return nil
}

// CreateIndex creates an index and waits until it is built.
func (c *Client) CreateIndex(ctx context.Context, db, coll, field, name string, params map[string]string) error {
	req := &milvuspb.CreateIndexRequest{DbName: db, CollectionName: coll, FieldName: field, IndexName: name}
	for k, v := range params {
		req.ExtraParams = append(req.ExtraParams, &commonpb.KeyValuePair{Key: k, Value: v})
	}
	resp, err := c.svc.CreateIndex(ctx, req)
	if err := check(wrapStatus(resp), err); err != nil {
		return fmt.Errorf("create index %s on %s.%s.%s: %w", name, db, coll, field, err)
	}
	return c.waitIndex(ctx, db, coll, name)
}

func (c *Client) waitIndex(ctx context.Context, db, coll, name string) error {
	for {
		resp, err := c.svc.DescribeIndex(ctx, &milvuspb.DescribeIndexRequest{DbName: db, CollectionName: coll, IndexName: name})
		if err := check(resp, err); err != nil {
			return fmt.Errorf("wait for index %s on %s.%s: %w", name, db, coll, err)
		}
		done := true
		for _, d := range resp.GetIndexDescriptions() {
			switch d.GetState() {
			case commonpb.IndexState_Failed:
				return fmt.Errorf("index %s on %s.%s failed: %s", name, db, coll, d.GetIndexStateFailReason())
			case commonpb.IndexState_Finished, commonpb.IndexState_IndexStateNone:
			default:
				done = false
			}
		}
		if done {
			return nil
		}
		if err := clock.Sleep(ctx, 300*time.Millisecond); err != nil {
			return err
		}
	}
}

// CreateAlias points alias at coll.
func (c *Client) CreateAlias(ctx context.Context, db, coll, alias string) error {
	resp, err := c.svc.CreateAlias(ctx, &milvuspb.CreateAliasRequest{DbName: db, CollectionName: coll, Alias: alias})
	if err := check(wrapStatus(resp), err); err != nil {
		return fmt.Errorf("create alias %s for %s.%s: %w", alias, db, coll, err)
	}
	return nil
}

// DropAlias removes an alias.
func (c *Client) DropAlias(ctx context.Context, db, alias string) error {
	resp, err := c.svc.DropAlias(ctx, &milvuspb.DropAliasRequest{DbName: db, Alias: alias})
	if err := check(wrapStatus(resp), err); err != nil {
		return fmt.Errorf("drop alias %s.%s: %w", db, alias, err)
	}
	return nil
}

// DropCollection drops a collection.
func (c *Client) DropCollection(ctx context.Context, db, coll string) error {
	resp, err := c.svc.DropCollection(ctx, &milvuspb.DropCollectionRequest{DbName: db, CollectionName: coll})
	if err := check(wrapStatus(resp), err); err != nil {
		return fmt.Errorf("drop collection %s.%s: %w", db, coll, err)
	}
	return nil
}

// Insert writes one batch of columns into a collection (partition may be
// empty for the default or for partition-key collections).
func (c *Client) Insert(ctx context.Context, db, coll, partition string, fields []*schemapb.FieldData, rows int) error {
	resp, err := c.svc.Insert(ctx, &milvuspb.InsertRequest{
		DbName: db, CollectionName: coll, PartitionName: partition, FieldsData: fields, NumRows: uint32(rows),
	})
	if err := check(resp, err); err != nil {
		return fmt.Errorf("insert into %s.%s: %w", db, coll, err)
	}
	if got := resp.GetInsertCnt(); got != int64(rows) {
		return fmt.Errorf("insert into %s.%s: server accepted %d of %d rows", db, coll, got, rows)
	}
	return nil
}

// Load loads a collection (or only the given partitions) and waits until it
// is fully loaded.
func (c *Client) Load(ctx context.Context, db, coll string, partitions []string) error {
	var st *commonpb.Status
	var err error
	if len(partitions) == 0 {
		st, err = c.svc.LoadCollection(ctx, &milvuspb.LoadCollectionRequest{DbName: db, CollectionName: coll})
	} else {
		st, err = c.svc.LoadPartitions(ctx, &milvuspb.LoadPartitionsRequest{DbName: db, CollectionName: coll, PartitionNames: partitions})
	}
	if err := check(wrapStatus(st), err); err != nil {
		return fmt.Errorf("load %s.%s: %w", db, coll, err)
	}
	for {
		state, err := c.LoadState(ctx, db, coll, partitions...)
		if err != nil {
			return err
		}
		if state == LoadStateLoaded {
			return nil
		}
		if err := clock.Sleep(ctx, 300*time.Millisecond); err != nil {
			return fmt.Errorf("wait for load of %s.%s: %w", db, coll, err)
		}
	}
}

// Release releases a collection from memory.
func (c *Client) Release(ctx context.Context, db, coll string) error {
	st, err := c.svc.ReleaseCollection(ctx, &milvuspb.ReleaseCollectionRequest{DbName: db, CollectionName: coll})
	if err := check(wrapStatus(st), err); err != nil {
		return fmt.Errorf("release %s.%s: %w", db, coll, err)
	}
	return nil
}

// Delete removes the rows matching expr (e.g. "id in [1,2]").
func (c *Client) Delete(ctx context.Context, db, coll, expr string) error {
	resp, err := c.svc.Delete(ctx, &milvuspb.DeleteRequest{DbName: db, CollectionName: coll, Expr: expr})
	if err := check(resp, err); err != nil {
		return fmt.Errorf("delete from %s.%s: %w", db, coll, err)
	}
	return nil
}
