package backup

import (
	"context"

	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"

	"github.com/milvault/milvault/milvus"
)

// Milvus is what a backup asks of the server: exactly the methods of
// *milvus.Client it calls, so that tests can run the pipeline against an
// in-memory fake. Methods report errors as *milvus.Client does
// (CollectionNotFoundError, DatabaseNotFoundError, ...). Scan must deliver
// rows in ascending primary-key order.
type Milvus interface {
	Address() string
	Version() string
	ListDatabases(ctx context.Context) ([]string, error)
	CheckDatabase(ctx context.Context, db string) error
	ListCollections(ctx context.Context, db string) ([]string, error)
	Describe(ctx context.Context, db, name string) (*milvuspb.DescribeCollectionResponse, error)
	Partitions(ctx context.Context, db, coll string) ([]string, error)
	Indexes(ctx context.Context, db, coll string) ([]*milvuspb.IndexDescription, error)
	Aliases(ctx context.Context, db, coll string) ([]string, error)
	LoadState(ctx context.Context, db, coll string, partitions ...string) (string, error)
	RowCount(ctx context.Context, db, coll string) (int64, error)
	Flush(ctx context.Context, db, coll string) (uint64, error)
	Load(ctx context.Context, db, coll string, partitions []string) error
	Release(ctx context.Context, db, coll string) error
	Scan(ctx context.Context, req milvus.ScanRequest, fn func(milvus.Batch) error) (milvus.ScanResult, error)
}

var _ Milvus = (*milvus.Client)(nil)

// RowCounter is an optional method of Milvus: a source that has it (a live
// server) gets every partition's scan cross-checked against its count(*)
// (see Params.SkipCountCheck); one that has not (a native backup being
// converted) is not checked.
type RowCounter interface {
	CountRows(ctx context.Context, db, coll string, partitions []string) (int64, error)
}

var _ RowCounter = (*milvus.Client)(nil)
