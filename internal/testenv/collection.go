package testenv

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"

	"github.com/milvault/milvault/milvus"
)

// Collection creates a flushed, indexed collection in the default database
// with rows rows of an int64 key and a random dim-d float vector (random,
// so that its data files do not compress away), and drops it when the test
// ends.
func Collection(t testing.TB, c *milvus.Client, prefix string, rows, dim int) string {
	t.Helper()
	ctx := context.Background()
	name := fmt.Sprintf("%s_%d", prefix, rand.Uint32())
	schema := &schemapb.CollectionSchema{Name: name, Fields: []*schemapb.FieldSchema{
		{Name: "id", DataType: schemapb.DataType_Int64, IsPrimaryKey: true},
		{Name: "v", DataType: schemapb.DataType_FloatVector, TypeParams: []*commonpb.KeyValuePair{{Key: "dim", Value: strconv.Itoa(dim)}}},
	}}
	if err := c.CreateCollection(ctx, milvus.CreateCollectionRequest{Database: "default", Schema: schema}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.DropCollection(context.Background(), "default", name) })
	const batch = 2000
	for start := 0; start < rows; start += batch {
		n := min(batch, rows-start)
		ids := make([]int64, n)
		vecs := make([]float32, dim*n)
		for i := range ids {
			ids[i] = int64(start + i)
		}
		for i := range vecs {
			vecs[i] = rand.Float32()
		}
		fields := []*schemapb.FieldData{
			milvus.Int64Column("id", ids),
			milvus.FloatVectorColumn("v", dim, vecs),
		}
		if err := c.Insert(ctx, "default", name, "", fields, n); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Flush(ctx, "default", name); err != nil {
		t.Fatal(err)
	}
	if err := c.CreateIndex(ctx, "default", name, "v", "v_flat", map[string]string{"index_type": "FLAT", "metric_type": "L2"}); err != nil {
		t.Fatal(err)
	}
	return name
}
