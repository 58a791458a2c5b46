package native_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strconv"
	"testing"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"

	"github.com/milvault/milvault/backup"
	"github.com/milvault/milvault/milvus"
	"github.com/milvault/milvault/native"
	"github.com/milvault/milvault/restore"
)

// TestNativePartitionKey: a partition-key collection (4 partitions,
// _default_0.._default_3) with deletes and an upsert is backed up natively,
// dropped and restored by binlog import, one import per partition; the rows
// compare equal, and so does every tenant's filtered count (a filter on the
// partition key reads only the partition its hash names, so a row imported
// into another partition would be missed). Converted to a logical backup,
// it restores by inserts with the same rows.
func TestNativePartitionKey(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	name := makePartitionKeyCollection(t, e.c, 3000)
	want, wantTenants := digest(t, e.c, name), tenantCounts(t, e.c, name)
	r := newRepo(t)
	m := e.backup(t, r, name).Manifest
	if c := m.Collections[0]; !c.PartitionKey || len(c.Partitions) != 4 {
		t.Fatalf("manifest: partition key %v, partitions %+v; want a partition-key collection of 4 partitions", c.PartitionKey, c.Partitions)
	}
	if err := e.c.DropCollection(ctx, "default", name); err != nil {
		t.Fatal(err)
	}
	rr, err := e.restore(r, m, restore.Params{})
	if err != nil {
		t.Fatal(err)
	}
	if got := rr.Collections[0]; got.Method != restore.MethodBinlogImport || got.Rows != m.Collections[0].Rows {
		t.Fatalf("restored %+v, want %d rows by binlog import", got, m.Collections[0].Rows)
	}
	if got := digest(t, e.c, name); !reflect.DeepEqual(got, want) {
		t.Fatalf("restored rows differ:\n got %+v\nwant %+v", got, want)
	}
	if got := tenantCounts(t, e.c, name); !reflect.DeepEqual(got, wantTenants) {
		t.Fatalf("rows per tenant (filter on the partition key) = %v, want %v", got, wantTenants)
	}
	// Converted to a logical backup, it restores by inserts, equal too.
	conv, err := native.Convert(ctx, native.ConvertDeps{Repo: r}, m, backup.Params{Name: "converted"})
	if err != nil {
		t.Fatal(err)
	}
	target := name + "_conv"
	t.Cleanup(func() { e.c.DropCollection(context.Background(), "default", target) })
	if _, err := restore.Run(ctx, restore.Deps{Milvus: e.c, Repo: r}, conv.Manifest, restore.Params{Target: target}); err != nil {
		t.Fatal(err)
	}
	if got := digest(t, e.c, target); !reflect.DeepEqual(got, want) {
		t.Fatalf("rows restored from the converted backup differ:\n got %+v\nwant %+v", got, want)
	}
}

const tenants = 7

// makePartitionKeyCollection creates a loaded collection whose VarChar
// field "tenant" is its partition key, in 4 partitions.
func makePartitionKeyCollection(t *testing.T, c *milvus.Client, rows int) string {
	t.Helper()
	ctx := context.Background()
	name := fmt.Sprintf("native_pk_%d", rand.Uint32())
	schema := &schemapb.CollectionSchema{Name: name, Fields: []*schemapb.FieldSchema{
		{Name: "id", DataType: schemapb.DataType_Int64, IsPrimaryKey: true},
		{Name: "v", DataType: schemapb.DataType_FloatVector, TypeParams: []*commonpb.KeyValuePair{{Key: "dim", Value: strconv.Itoa(dim)}}},
		{Name: "t", DataType: schemapb.DataType_VarChar, IsPartitionKey: true, TypeParams: []*commonpb.KeyValuePair{{Key: "max_length", Value: "64"}}},
	}}
	if err := c.CreateCollection(ctx, milvus.CreateCollectionRequest{Database: "default", Schema: schema, NumPartitions: 4}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.DropCollection(context.Background(), "default", name) })
	for s := 0; s < rows; s += 1000 {
		cols := columns(s, min(s+1000, rows), "")
		texts := cols[2].GetScalars().GetStringData().GetData()
		for i := range texts {
			texts[i] = "tenant" + strconv.Itoa((s+i)%tenants)
		}
		if err := c.Insert(ctx, "default", name, "", cols, len(texts)); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Flush(ctx, "default", name); err != nil { // several segments per partition
			t.Fatal(err)
		}
	}
	if err := c.Delete(ctx, "default", name, "id in [1, 2, 3, 500, 1500]"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Flush(ctx, "default", name); err != nil {
		t.Fatal(err)
	}
	if err := c.CreateIndex(ctx, "default", name, "v", "v_flat", map[string]string{"index_type": "FLAT", "metric_type": "L2"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Load(ctx, "default", name, nil); err != nil {
		t.Fatal(err)
	}
	return name
}

// tenantCounts counts each tenant's rows through a filter on the
// partition key.
func tenantCounts(t *testing.T, c *milvus.Client, name string) []int64 {
	t.Helper()
	out := make([]int64, tenants)
	for i := range out {
		n, err := c.CountWhere(context.Background(), "default", name, "", fmt.Sprintf("t == %q", "tenant"+strconv.Itoa(i)))
		if err != nil {
			t.Fatal(err)
		}
		out[i] = n
	}
	return out
}
