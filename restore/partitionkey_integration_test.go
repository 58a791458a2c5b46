package restore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"

	"github.com/milvault/milvault/backup"
	"github.com/milvault/milvault/internal/testenv"
	"github.com/milvault/milvault/milvus"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/local"
	"github.com/milvault/milvault/restore"
	"github.com/milvault/milvault/verify"
)

// TestPartitionKeyRoundTrip backs up a collection whose partitions the
// server manages by a partition key, restores it under another name, and
// compares every row; the restored schema keeps the partition key.
func TestPartitionKeyRoundTrip(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, tg testenv.Target, c *milvus.Client) {
		ctx := context.Background()
		name := partitionKeyCollection(t, c, 2500)
		s, _ := local.New(filepath.Join(t.TempDir(), "repo"))
		r, err := repo.OpenOrInit(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		res, err := backup.Run(ctx, backup.Deps{Milvus: c, Repo: r}, backup.Params{Collections: []string{name}})
		if err != nil {
			t.Fatal(err)
		}
		mc := res.Manifest.Collections[0]
		if !mc.PartitionKey || len(mc.Partitions) != 1 || mc.Partitions[0].Name != backup.AllPartitions || mc.Rows != 2500 {
			t.Fatalf("manifest: partition key %v, partitions %v, rows %d; want one %q pseudo-partition of 2500 rows", mc.PartitionKey, mc.Partitions, mc.Rows, backup.AllPartitions)
		}
		target := name + "_r"
		if _, err := restore.Run(ctx, restore.Deps{Milvus: c, Repo: r}, res.Manifest, restore.Params{Target: target, Load: restore.LoadAlways}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.DropCollection(context.Background(), "default", target) })
		desc, err := c.Describe(ctx, "default", target)
		if err != nil || !milvus.HasPartitionKey(desc.GetSchema()) {
			t.Fatalf("restored schema keeps the partition key: %v, %v", desc.GetSchema(), err)
		}
		a, errA := verify.Digest(ctx, c, "default", name)
		b, errB := verify.Digest(ctx, c, "default", target)
		if errA != nil || errB != nil || !slices.Equal(a, b) || a[0].Rows != 2500 {
			t.Fatalf("digests differ: source %v (%v), restored %v (%v)", a, errA, b, errB)
		}
	})
}

func partitionKeyCollection(t *testing.T, c *milvus.Client, n int) string {
	t.Helper()
	ctx := context.Background()
	name := fmt.Sprintf("pkey_%d", rand.Uint32())
	kv := func(k, v string) []*commonpb.KeyValuePair { return []*commonpb.KeyValuePair{{Key: k, Value: v}} }
	schema := &schemapb.CollectionSchema{Name: name, Fields: []*schemapb.FieldSchema{
		{Name: "id", DataType: schemapb.DataType_Int64, IsPrimaryKey: true},
		{Name: "tenant", DataType: schemapb.DataType_VarChar, IsPartitionKey: true, TypeParams: kv("max_length", "16")},
		{Name: "v", DataType: schemapb.DataType_FloatVector, TypeParams: kv("dim", "8")},
	}}
	if err := c.CreateCollection(ctx, milvus.CreateCollectionRequest{Database: "default", Schema: schema, NumPartitions: 8}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.DropCollection(context.Background(), "default", name) })
	ids, tenants, vecs := make([]int64, n), make([]string, n), make([]float32, 8*n)
	for i := range n {
		ids[i], tenants[i] = int64(i), fmt.Sprintf("t%d", i%5)
	}
	for i := range vecs {
		vecs[i] = rand.Float32()
	}
	fields := []*schemapb.FieldData{
		milvus.Int64Column("id", ids),
		milvus.VarCharColumn("tenant", tenants),
		milvus.FloatVectorColumn("v", 8, vecs),
	}
	if err := c.Insert(ctx, "default", name, "", fields, n); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Flush(ctx, "default", name); err != nil {
		t.Fatal(err)
	}
	if err := c.CreateIndex(ctx, "default", name, "v", "v", map[string]string{"index_type": "FLAT", "metric_type": "L2"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Load(ctx, "default", name, nil); err != nil {
		t.Fatal(err)
	}
	return name
}
