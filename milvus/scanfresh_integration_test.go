package milvus_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"

	"github.com/milvault/milvault/internal/testenv"
	"github.com/milvault/milvault/milvus"
)

// TestScanSeesFreshWrites scans a collection immediately after rows were
// inserted and deleted, at strong consistency and at the timestamp of a
// flush taken after the writes. Every scan must return exactly the rows the
// collection holds. Milvus 2.3.5 reads iterator queries at whatever its
// query node has consumed, ignoring the consistency level, so a scan begun
// right after writes returned none of the 597 rows (no flush) or 500 (after
// a flush) until Scan waited for the server first (see Scan).
func TestScanSeesFreshWrites(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, tg testenv.Target, c *milvus.Client) {
		for _, flush := range []bool{false, true} {
			t.Run(fmt.Sprintf("flush=%v", flush), func(t *testing.T) {
				ctx := context.Background()
				name, pk := freshCollection(t, c)
				var ts uint64
				if flush {
					insertRange(t, c, name, 0, 500)
					var err error
					if ts, err = c.Flush(ctx, "default", name); err != nil {
						t.Fatal(err)
					}
					insertRange(t, c, name, 500, 100)
				} else {
					insertRange(t, c, name, 0, 600)
				}
				if _, err := c.Service().Delete(ctx, &milvuspb.DeleteRequest{DbName: "default", CollectionName: name, Expr: "pk in [0, 1, 2]"}); err != nil {
					t.Fatal(err)
				}
				if flush {
					// The snapshot timestamp of a backup: a flush after
					// the writes.
					var err error
					if ts, err = c.Flush(ctx, "default", name); err != nil {
						t.Fatal(err)
					}
				}
				got := map[int64]bool{}
				res, err := c.Scan(ctx, milvus.ScanRequest{Database: "default", Collection: name, PrimaryKey: pk, BatchRows: 128, GuaranteeTs: ts},
					func(b milvus.Batch) error {
						for _, f := range b.Fields {
							if f.GetFieldName() == "pk" {
								for _, k := range f.GetScalars().GetLongData().GetData() {
									got[k] = true
								}
							}
						}
						return nil
					})
				if err != nil {
					t.Fatal(err)
				}
				missing := 0
				for k := int64(3); k < 600; k++ {
					if !got[k] {
						missing++
					}
				}
				if len(got) != 597 || missing != 0 || res.Rows != 597 {
					t.Fatalf("%s: a scan right after the writes returned %d rows (res.Rows %d, %d of the 597 missing, deleted keys present: %v)",
						tg.Name, len(got), res.Rows, missing, got[0] || got[1] || got[2])
				}
			})
		}
	})
}

func freshCollection(t *testing.T, c *milvus.Client) (string, *schemapb.FieldSchema) {
	t.Helper()
	ctx := context.Background()
	name := fmt.Sprintf("scan_fresh_%d", rand.Uint32())
	pk := &schemapb.FieldSchema{Name: "pk", DataType: schemapb.DataType_Int64, IsPrimaryKey: true}
	schema := &schemapb.CollectionSchema{Name: name, Fields: []*schemapb.FieldSchema{pk,
		{Name: "v", DataType: schemapb.DataType_FloatVector, TypeParams: []*commonpb.KeyValuePair{{Key: "dim", Value: "2"}}}}}
	if err := c.CreateCollection(ctx, milvus.CreateCollectionRequest{Database: "default", Schema: schema, ShardsNum: 1}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.DropCollection(context.Background(), "default", name) })
	if err := c.CreateIndex(ctx, "default", name, "v", "v", map[string]string{"index_type": "FLAT", "metric_type": "L2"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Load(ctx, "default", name, nil); err != nil {
		t.Fatal(err)
	}
	return name, pk
}

func insertRange(t *testing.T, c *milvus.Client, name string, from, n int) {
	t.Helper()
	ids := make([]int64, n)
	vecs := make([]float32, 2*n)
	for i := range ids {
		ids[i] = int64(from + i)
	}
	if err := c.Insert(context.Background(), "default", name, "", []*schemapb.FieldData{
		milvus.Int64Column("pk", ids), milvus.FloatVectorColumn("v", 2, vecs)}, n); err != nil {
		t.Fatal(err)
	}
}
