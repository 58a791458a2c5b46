package milvus

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Capabilities are the features of a server that a restore may need. A
// restore checks them before it creates anything (see restore.Check).
type Capabilities struct {
	// Server names the server in messages: "Milvus v2.3.5", "Milvus Lite 2.x".
	Server          string
	Databases       bool
	Aliases         bool
	Partitions      bool // custom partitions
	PartitionKey    bool
	DynamicField    bool
	Nullable        bool
	DefaultValue    bool
	Functions       bool // schema functions such as BM25
	MultipleVectors bool
	// DataTypes are the field (and array element) types the server creates.
	DataTypes map[schemapb.DataType]bool
	// IndexTypes are the index types the server builds; nil means any.
	IndexTypes []string
}

// AllCapabilities returns capabilities with every feature, for a server
// whose features are not restricted (and for fakes in tests).
func AllCapabilities(server string) Capabilities {
	c := Capabilities{Server: server, Databases: true, Aliases: true, Partitions: true, PartitionKey: true,
		DynamicField: true, Nullable: true, DefaultValue: true, Functions: true, MultipleVectors: true,
		DataTypes: map[schemapb.DataType]bool{}}
	for dt := range schemapb.DataType_name {
		c.DataTypes[schemapb.DataType(dt)] = true
	}
	return c
}

// Capabilities finds out what the server supports without creating anything:
// from its version (the feature history of Milvus releases) and from which
// calls it answers as unimplemented (Milvus Lite 2.x, which reports no
// version, answers so for databases, partitions and aliases).
func (c *Client) Capabilities(ctx context.Context) (Capabilities, error) {
	if c.version == "" {
		return c.lite2Capabilities(ctx)
	}
	if v, ok := strings.CutPrefix(c.version, "milvus_lite-"); ok {
		return c.lite3Capabilities(ctx, v)
	}
	major, minor, patch, ok := parseVersion(c.version)
	if !ok {
		return AllCapabilities("Milvus " + c.version), nil
	}
	return milvusCapabilities("Milvus "+c.version, major, minor, patch), nil
}

// milvusCapabilities is the feature history of Milvus releases.
func milvusCapabilities(server string, major, minor, patch int) Capabilities {
	at := func(ma, mi, pa int) bool {
		return major > ma || major == ma && (minor > mi || minor == mi && patch >= pa)
	}
	c := Capabilities{Server: server, Aliases: true, Partitions: true,
		Databases: at(2, 2, 9), PartitionKey: at(2, 2, 9), DynamicField: at(2, 2, 9),
		DefaultValue: at(2, 3, 0), MultipleVectors: at(2, 4, 0), Nullable: at(2, 5, 0), Functions: at(2, 5, 0),
		DataTypes: baseTypes()}
	add := func(ok bool, dts ...schemapb.DataType) {
		for _, dt := range dts {
			c.DataTypes[dt] = ok
		}
	}
	add(at(2, 2, 8), schemapb.DataType_JSON)
	add(at(2, 3, 0), schemapb.DataType_Array)
	add(at(2, 4, 0), schemapb.DataType_Float16Vector, schemapb.DataType_BFloat16Vector, schemapb.DataType_SparseFloatVector)
	add(at(2, 6, 0), schemapb.DataType_Int8Vector)
	return c
}

// baseTypes are the types every server creates.
func baseTypes() map[schemapb.DataType]bool {
	m := map[schemapb.DataType]bool{}
	for _, dt := range []schemapb.DataType{schemapb.DataType_Bool, schemapb.DataType_Int8, schemapb.DataType_Int16,
		schemapb.DataType_Int32, schemapb.DataType_Int64, schemapb.DataType_Float, schemapb.DataType_Double,
		schemapb.DataType_VarChar, schemapb.DataType_FloatVector, schemapb.DataType_BinaryVector} {
		m[dt] = true
	}
	return m
}

// lite2Capabilities describes Milvus Lite 2.x (a C++ server on Milvus's
// segment engine): no databases, partitions or aliases, no nullable fields,
// only the local index types, but sparse vectors and BM25 functions.
func (c *Client) lite2Capabilities(ctx context.Context) (Capabilities, error) {
	caps := milvusCapabilities("Milvus Lite 2.x (no version reported)", 2, 4, 0)
	caps.Functions = true
	caps.IndexTypes = []string{"FLAT", "IVF_FLAT", "AUTOINDEX", "BIN_FLAT", "SPARSE_INVERTED_INDEX", "SPARSE_WAND"}
	var err error
	caps.Databases, err = c.answers(ctx, "ListDatabases", func(ctx context.Context) error {
		_, err := c.svc.ListDatabases(ctx, &milvuspb.ListDatabasesRequest{})
		return err
	})
	if err != nil {
		return caps, err
	}
	caps.Aliases, err = c.answers(ctx, "ListAliases", func(ctx context.Context) error {
		_, err := c.svc.ListAliases(ctx, &milvuspb.ListAliasesRequest{})
		return err
	})
	if err != nil {
		return caps, err
	}
	caps.Partitions, err = c.answers(ctx, "ShowPartitions", func(ctx context.Context) error {
		_, err := c.svc.ShowPartitions(ctx, &milvuspb.ShowPartitionsRequest{CollectionName: "milvault_probe_none"})
		return err
	})
	caps.PartitionKey = caps.Partitions
	return caps, err
}

// lite3Capabilities describes Milvus Lite 3.x: one float vector per
// collection, nullable fields and default values.
func (c *Client) lite3Capabilities(ctx context.Context, version string) (Capabilities, error) {
	caps := milvusCapabilities("Milvus Lite "+version, 2, 3, 0)
	caps.Nullable = true
	caps.Functions = true // BM25, searched with texts
	caps.DataTypes[schemapb.DataType_BinaryVector] = false
	caps.DataTypes[schemapb.DataType_SparseFloatVector] = true
	var err error
	caps.Databases, err = c.answers(ctx, "ListDatabases", func(ctx context.Context) error {
		_, err := c.svc.ListDatabases(ctx, &milvuspb.ListDatabasesRequest{})
		return err
	})
	return caps, err
}

// answers reports whether the server implements the call: false for an
// Unimplemented answer, true for any other (an error status included).
func (c *Client) answers(ctx context.Context, name string, call func(context.Context) error) (bool, error) {
	err := call(ctx)
	switch status.Code(err) {
	case codes.Unimplemented:
		return false, nil
	case codes.OK:
		return true, nil
	case codes.Unavailable, codes.DeadlineExceeded, codes.Canceled:
		return false, fmt.Errorf("probe %s: %w", name, err)
	}
	return true, nil
}

// parseVersion reads "v2.3.5", "v2.3.5-lite" or "2.4.0-rc1".
func parseVersion(v string) (major, minor, patch int, ok bool) {
	v = strings.TrimPrefix(v, "v")
	v, _, _ = strings.Cut(v, "-")
	parts := strings.Split(v, ".")
	if len(parts) < 2 {
		return 0, 0, 0, false
	}
	nums := make([]int, 3)
	for i := 0; i < len(parts) && i < 3; i++ {
		n, err := strconv.Atoi(parts[i])
		if err != nil {
			return 0, 0, 0, false
		}
		nums[i] = n
	}
	return nums[0], nums[1], nums[2], true
}
