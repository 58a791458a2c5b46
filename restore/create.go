package restore

import (
	"context"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"

	"github.com/milvault/milvault/milvus"
)

// defaultPartition is created by the server with every collection.
const defaultPartition = "_default"

// createCollection creates the target with the recorded schema, shard count,
// consistency level and properties, then its partitions.
func createCollection(ctx context.Context, c Milvus, j *job) error {
	req := milvus.CreateCollectionRequest{
		Database:         j.database,
		Schema:           j.schema,
		ShardsNum:        j.src.ShardsNum,
		ConsistencyLevel: commonpb.ConsistencyLevel(commonpb.ConsistencyLevel_value[j.src.ConsistencyLevel]),
		Properties:       j.src.Properties,
	}
	if j.src.PartitionKey {
		// Servers reject a partition count without a partition key.
		req.NumPartitions = j.src.NumPartitions
	}
	err := c.CreateCollection(ctx, req)
	if err != nil || j.src.PartitionKey {
		return err
	}
	for _, p := range j.partitions {
		if p.Name == defaultPartition {
			continue
		}
		if err := c.CreatePartition(ctx, j.database, j.name, p.Name); err != nil {
			return err
		}
	}
	return nil
}
