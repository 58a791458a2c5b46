package backup

import (
	"context"
	"fmt"
	"time"

	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/milvus"
)

// captured is a collection's metadata plus what the data writer needs.
type captured struct {
	manifest.Collection
	schema     *schemapb.CollectionSchema
	pk         *schemapb.FieldSchema
	partitions []string // partitions to read; nil for partition-key collections
	snapshot   manifest.Snapshot
}

// captureCollection records everything needed to rebuild the collection,
// then flushes it so that sealed data is complete.
func captureCollection(ctx context.Context, c Milvus, t target) (*captured, error) {
	desc, err := c.Describe(ctx, t.Database, t.Collection)
	if err != nil {
		return nil, err
	}
	schema := desc.GetSchema()
	schemaJSON, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(schema)
	if err != nil {
		return nil, fmt.Errorf("encode schema of %s.%s: %w", t.Database, t.Collection, err)
	}
	cap := &captured{
		Collection: manifest.Collection{
			Database: t.Database, Name: t.Collection, ID: desc.GetCollectionID(), Schema: schemaJSON,
			ShardsNum: desc.GetShardsNum(), ConsistencyLevel: desc.GetConsistencyLevel().String(),
			Properties: map[string]string{}, PartitionKey: milvus.HasPartitionKey(schema), NumPartitions: desc.GetNumPartitions(),
		},
		schema: schema,
		pk:     milvus.PrimaryField(schema),
	}
	if cap.pk == nil {
		return nil, fmt.Errorf("collection %s.%s has no primary key field", t.Database, t.Collection)
	}
	for _, kv := range desc.GetProperties() {
		cap.Properties[kv.GetKey()] = kv.GetValue()
	}
	if err := capturePartitions(ctx, c, t, cap); err != nil {
		return nil, err
	}
	if err := captureIndexesAndAliases(ctx, c, t, cap, desc.GetAliases()); err != nil {
		return nil, err
	}
	if cap.ServerRowCount, err = c.RowCount(ctx, t.Database, t.Collection); err != nil {
		return nil, err
	}
	ts, err := c.Flush(ctx, t.Database, t.Collection)
	if err != nil {
		return nil, err
	}
	cap.snapshot = manifest.Snapshot{Timestamp: ts, Time: hybridTime(ts)}
	if ts == 0 {
		// The server gave no flush timestamp: record when the flush returned.
		cap.snapshot.Time = time.Now().UTC()
	}
	return cap, nil
}

// hybridTime converts a Milvus hybrid timestamp (physical milliseconds
// shifted left by 18 logical bits) to wall time.
func hybridTime(ts uint64) time.Time {
	if ts == 0 {
		return time.Time{}
	}
	return time.UnixMilli(int64(ts >> 18)).UTC()
}

func capturePartitions(ctx context.Context, c Milvus, t target, cap *captured) error {
	all, err := c.Partitions(ctx, t.Database, t.Collection)
	if err != nil {
		return err
	}
	if cap.PartitionKey {
		// The server owns the partitions; data is read collection-wide.
		cap.LoadState, err = c.LoadState(ctx, t.Database, t.Collection)
		return err
	}
	cap.partitions = all
	if len(t.Partitions) > 0 {
		cap.partitions = t.Partitions
	}
	return captureLoadState(ctx, c, t, cap, all)
}

func captureLoadState(ctx context.Context, c Milvus, t target, cap *captured, all []string) error {
	var loaded []string
	for _, p := range all {
		st, err := c.LoadState(ctx, t.Database, t.Collection, p)
		if err != nil {
			return err
		}
		if st == milvus.LoadStateLoaded || st == milvus.LoadStateLoading {
			loaded = append(loaded, p)
		}
	}
	switch {
	case len(loaded) == 0:
		cap.LoadState = milvus.LoadStateNotLoaded
	case len(loaded) == len(all):
		cap.LoadState = milvus.LoadStateLoaded
	default:
		cap.LoadState = milvus.LoadStateLoaded
		cap.LoadedPartitions = loaded
	}
	return nil
}

func captureIndexesAndAliases(ctx context.Context, c Milvus, t target, cap *captured, descAliases []string) error {
	idx, err := c.Indexes(ctx, t.Database, t.Collection)
	if err != nil {
		return err
	}
	for _, d := range idx {
		params := map[string]string{}
		for _, kv := range d.GetParams() {
			params[kv.GetKey()] = kv.GetValue()
		}
		cap.Indexes = append(cap.Indexes, manifest.Index{Name: d.GetIndexName(), Field: d.GetFieldName(), Params: params})
	}
	aliases, err := c.Aliases(ctx, t.Database, t.Collection)
	if err != nil {
		aliases = descAliases // older servers describe aliases only here
	}
	cap.Aliases = aliases
	return nil
}
