package milvus

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/milvault/milvault/internal/clock"
)

// CollectionNotFoundError reports an unknown collection.
type CollectionNotFoundError struct {
	Database   string
	Collection string
	Available  []string
}

func (e *CollectionNotFoundError) Error() string {
	if len(e.Available) == 0 {
		return fmt.Sprintf("collection %q not found in database %q (it has no collections)", e.Collection, e.Database)
	}
	return fmt.Sprintf("collection %q not found in database %q; available: %s", e.Collection, e.Database, strings.Join(e.Available, ", "))
}

// PartitionNotFoundError reports an unknown partition.
type PartitionNotFoundError struct {
	Database   string
	Collection string
	Partition  string
	Available  []string
}

func (e *PartitionNotFoundError) Error() string {
	return fmt.Sprintf("partition %q not found in collection %s.%s; available: %s", e.Partition, e.Database, e.Collection, strings.Join(e.Available, ", "))
}

// DatabaseNotFoundError reports an unknown database.
type DatabaseNotFoundError struct {
	Database  string
	Available []string
}

func (e *DatabaseNotFoundError) Error() string {
	return fmt.Sprintf("database %q not found; available: %s", e.Database, strings.Join(e.Available, ", "))
}

// ListDatabases returns the database names, sorted.
func (c *Client) ListDatabases(ctx context.Context) ([]string, error) {
	resp, err := c.svc.ListDatabases(ctx, &milvuspb.ListDatabasesRequest{})
	if status.Code(err) == codes.Unimplemented {
		return []string{"default"}, nil // Milvus Lite 2.x: one database
	}
	if err := check(resp, err); err != nil {
		return nil, fmt.Errorf("list databases: %w", err)
	}
	names := append([]string(nil), resp.GetDbNames()...)
	sort.Strings(names)
	return names, nil
}

// CheckDatabase returns a DatabaseNotFoundError when db does not exist.
func (c *Client) CheckDatabase(ctx context.Context, db string) error {
	dbs, err := c.ListDatabases(ctx)
	if err != nil {
		return err
	}
	for _, d := range dbs {
		if d == db {
			return nil
		}
	}
	return &DatabaseNotFoundError{Database: db, Available: dbs}
}

// ListCollections returns the collection names of db, sorted.
func (c *Client) ListCollections(ctx context.Context, db string) ([]string, error) {
	resp, err := c.svc.ShowCollections(ctx, &milvuspb.ShowCollectionsRequest{DbName: db})
	if err := check(resp, err); err != nil {
		return nil, fmt.Errorf("list collections of %s: %w", db, err)
	}
	names := append([]string(nil), resp.GetCollectionNames()...)
	sort.Strings(names)
	return names, nil
}

// HasCollection reports whether db.name exists (false when db does not).
func (c *Client) HasCollection(ctx context.Context, db, name string) (bool, error) {
	names, err := c.ListCollections(ctx, db)
	if err != nil {
		var dnf *DatabaseNotFoundError
		if derr := c.CheckDatabase(ctx, db); errors.As(derr, &dnf) {
			return false, nil
		}
		return false, err
	}
	i := sort.SearchStrings(names, name)
	return i < len(names) && names[i] == name, nil
}

// Describe returns the collection description, or a CollectionNotFoundError
// listing the collections that do exist.
func (c *Client) Describe(ctx context.Context, db, name string) (*milvuspb.DescribeCollectionResponse, error) {
	resp, err := c.svc.DescribeCollection(ctx, &milvuspb.DescribeCollectionRequest{DbName: db, CollectionName: name})
	if err := check(resp, err); err != nil {
		if isNotFound(err) {
			avail, _ := c.ListCollections(ctx, db)
			return nil, &CollectionNotFoundError{Database: db, Collection: name, Available: avail}
		}
		return nil, fmt.Errorf("describe %s.%s: %w", db, name, err)
	}
	return resp, nil
}

// Partitions returns the partition names of a collection in server order.
func (c *Client) Partitions(ctx context.Context, db, coll string) ([]string, error) {
	resp, err := c.svc.ShowPartitions(ctx, &milvuspb.ShowPartitionsRequest{DbName: db, CollectionName: coll})
	if status.Code(err) == codes.Unimplemented {
		return []string{"_default"}, nil // Milvus Lite 2.x: no partitions
	}
	if err := check(resp, err); err != nil {
		return nil, fmt.Errorf("list partitions of %s.%s: %w", db, coll, err)
	}
	return resp.GetPartitionNames(), nil
}

// Indexes returns the index definitions of a collection (none is not an error).
func (c *Client) Indexes(ctx context.Context, db, coll string) ([]*milvuspb.IndexDescription, error) {
	resp, err := c.svc.DescribeIndex(ctx, &milvuspb.DescribeIndexRequest{DbName: db, CollectionName: coll})
	if err := check(resp, err); err != nil {
		if isNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("describe indexes of %s.%s: %w", db, coll, err)
	}
	return resp.GetIndexDescriptions(), nil
}

// Aliases returns the aliases that point at a collection, sorted.
func (c *Client) Aliases(ctx context.Context, db, coll string) ([]string, error) {
	resp, err := c.svc.ListAliases(ctx, &milvuspb.ListAliasesRequest{DbName: db, CollectionName: coll})
	if status.Code(err) == codes.Unimplemented {
		// Milvus 2.2 lists a collection's aliases in its description
		// (Milvus Lite 2.x has none).
		desc, derr := c.Describe(ctx, db, coll)
		if derr != nil {
			return nil, derr
		}
		out := append([]string(nil), desc.GetAliases()...)
		sort.Strings(out)
		return out, nil
	}
	if err := check(resp, err); err != nil {
		return nil, fmt.Errorf("list aliases of %s.%s: %w", db, coll, err)
	}
	out := append([]string(nil), resp.GetAliases()...)
	sort.Strings(out)
	return out, nil
}

// AliasTarget returns the collection an alias points at, or "" when the alias
// does not exist.
func (c *Client) AliasTarget(ctx context.Context, db, alias string) (string, error) {
	resp, err := c.svc.DescribeAlias(ctx, &milvuspb.DescribeAliasRequest{DbName: db, Alias: alias})
	if status.Code(err) == codes.Unimplemented {
		// Milvus 2.2 cannot say; its CreateAlias refuses a taken name.
		return "", nil
	}
	if err := check(resp, err); err != nil {
		if isNotFound(err) {
			return "", nil
		}
		return "", fmt.Errorf("describe alias %s.%s: %w", db, alias, err)
	}
	return resp.GetCollection(), nil
}

// Load states as recorded in manifests.
const (
	LoadStateLoaded    = "loaded"
	LoadStateLoading   = "loading"
	LoadStateNotLoaded = "not_loaded"
	LoadStateUnknown   = "unknown"
)

// LoadState returns the load state of a collection, or of some of its
// partitions when partitions is not empty.
func (c *Client) LoadState(ctx context.Context, db, coll string, partitions ...string) (string, error) {
	resp, err := c.svc.GetLoadState(ctx, &milvuspb.GetLoadStateRequest{DbName: db, CollectionName: coll, PartitionNames: partitions})
	if err := check(resp, err); err != nil {
		return LoadStateUnknown, fmt.Errorf("get load state of %s.%s: %w", db, coll, err)
	}
	switch resp.GetState() {
	case commonpb.LoadState_LoadStateLoaded:
		return LoadStateLoaded, nil
	case commonpb.LoadState_LoadStateLoading:
		return LoadStateLoading, nil
	case commonpb.LoadState_LoadStateNotLoad:
		return LoadStateNotLoaded, nil
	}
	return LoadStateUnknown, nil
}

// RowCount returns the server's row-count statistic of a collection.
func (c *Client) RowCount(ctx context.Context, db, coll string) (int64, error) {
	resp, err := c.svc.GetCollectionStatistics(ctx, &milvuspb.GetCollectionStatisticsRequest{DbName: db, CollectionName: coll})
	if err := check(resp, err); err != nil {
		return 0, fmt.Errorf("statistics of %s.%s: %w", db, coll, err)
	}
	for _, kv := range resp.GetStats() {
		if kv.GetKey() == "row_count" {
			return strconv.ParseInt(kv.GetValue(), 10, 64)
		}
	}
	return 0, nil
}

// Flush seals the growing segments of a collection and waits until they are
// persisted. It returns the flush timestamp (a hybrid timestamp), zero when
// the server does not report one.
func (c *Client) Flush(ctx context.Context, db, coll string) (uint64, error) {
	resp, err := c.svc.Flush(ctx, &milvuspb.FlushRequest{DbName: db, CollectionNames: []string{coll}})
	if err := check(resp, err); err != nil {
		return 0, fmt.Errorf("flush %s.%s: %w", db, coll, err)
	}
	segs := resp.GetCollSegIDs()[coll].GetData()
	flushed := resp.GetFlushCollSegIDs()[coll].GetData()
	ts := resp.GetCollFlushTs()[coll]
	req := &milvuspb.GetFlushStateRequest{DbName: db, CollectionName: coll, SegmentIDs: append(segs, flushed...), FlushTs: ts}
	// The state turns true once the channel checkpoint passes the flush
	// timestamp, at the server's next time tick (every 200 ms by default)
	// even when there was nothing to flush: poll soon, then back off.
	wait := 10 * time.Millisecond
	for {
		st, err := c.svc.GetFlushState(ctx, req)
		if err := check(st, err); err != nil {
			return 0, fmt.Errorf("wait for flush of %s.%s: %w", db, coll, err)
		}
		if st.GetFlushed() {
			return ts, nil
		}
		if err := clock.Sleep(ctx, wait); err != nil {
			return 0, fmt.Errorf("wait for flush of %s.%s: %w", db, coll, err)
		}
		wait = min(2*wait, 25*time.Millisecond)
	}
}

// PrimaryField returns the primary key field of a schema.
func PrimaryField(s *schemapb.CollectionSchema) *schemapb.FieldSchema {
	for _, f := range s.GetFields() {
		if f.GetIsPrimaryKey() {
			return f
		}
	}
	return nil
}

// HasPartitionKey reports whether the server routes rows to partitions by a
// partition-key field.
func HasPartitionKey(s *schemapb.CollectionSchema) bool {
	for _, f := range s.GetFields() {
		if f.GetIsPartitionKey() {
			return true
		}
	}
	return false
}

// Count returns the number of rows a strong-consistency count(*) query sees.
func (c *Client) Count(ctx context.Context, db, coll string) (int64, error) {
	return c.count(ctx, &milvuspb.QueryRequest{
		DbName: db, CollectionName: coll, OutputFields: []string{"count(*)"},
		ConsistencyLevel: commonpb.ConsistencyLevel_Strong,
	})
}
