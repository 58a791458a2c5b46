package restore

import (
	"context"

	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"

	"github.com/milvault/milvault/milvus"
)

// Milvus is what a restore asks of the server: exactly the methods of
// *milvus.Client it calls, so that tests can run the pipeline against an
// in-memory fake. Methods report errors as *milvus.Client does; CanImport
// answering false makes the restore use Insert calls only.
type Milvus interface {
	Address() string
	Version() string
	Capabilities(ctx context.Context) (milvus.Capabilities, error)
	HasCollection(ctx context.Context, db, name string) (bool, error)
	Describe(ctx context.Context, db, name string) (*milvuspb.DescribeCollectionResponse, error)
	Aliases(ctx context.Context, db, coll string) ([]string, error)
	AliasTarget(ctx context.Context, db, alias string) (string, error)
	CreateDatabase(ctx context.Context, db string) error
	CreateCollection(ctx context.Context, req milvus.CreateCollectionRequest) error
	CreatePartition(ctx context.Context, db, coll, partition string) error
	CreateIndex(ctx context.Context, db, coll, field, name string, params map[string]string) error
	CreateAlias(ctx context.Context, db, coll, alias string) error
	DropAlias(ctx context.Context, db, alias string) error
	DropCollection(ctx context.Context, db, coll string) error
	Insert(ctx context.Context, db, coll, partition string, fields []*schemapb.FieldData, rows int) error
	Flush(ctx context.Context, db, coll string) (uint64, error)
	RowCount(ctx context.Context, db, coll string) (int64, error)
	Load(ctx context.Context, db, coll string, partitions []string) error
	CanImport(ctx context.Context) (bool, error)
	Import(ctx context.Context, db, coll, partition, file string) (int64, error)
	WaitImport(ctx context.Context, id int64, progress func(milvus.ImportTask)) (milvus.ImportTask, error)
}

var _ Milvus = (*milvus.Client)(nil)
