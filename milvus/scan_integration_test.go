package milvus_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"

	"github.com/milvault/milvault/internal/testenv"
	"github.com/milvault/milvault/milvus"
)

// TestScanVarCharKeys checks that the primary-key-ordered scan returns every
// row exactly once, in order, when keys need escaping in filter expressions
// and batches are much smaller than the collection.
func TestScanVarCharKeys(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, tg testenv.Target, c *milvus.Client) {
		ctx := context.Background()
		keys := awkwardKeys(700)
		name := fmt.Sprintf("scan_keys_%d", rand.Uint32())
		pk := &schemapb.FieldSchema{Name: "k", DataType: schemapb.DataType_VarChar, IsPrimaryKey: true,
			TypeParams: []*commonpb.KeyValuePair{{Key: "max_length", Value: "64"}}}
		schema := &schemapb.CollectionSchema{Name: name, Fields: []*schemapb.FieldSchema{pk,
			{Name: "v", DataType: schemapb.DataType_FloatVector, TypeParams: []*commonpb.KeyValuePair{{Key: "dim", Value: "2"}}}}}
		if err := c.CreateCollection(ctx, milvus.CreateCollectionRequest{Database: "default", Schema: schema}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.DropCollection(context.Background(), "default", name) })
		insertKeys(t, c, name, keys)
		if err := c.CreateIndex(ctx, "default", name, "v", "v", map[string]string{"index_type": "FLAT", "metric_type": "L2"}); err != nil {
			t.Fatal(err)
		}
		if err := c.Load(ctx, "default", name, nil); err != nil {
			t.Fatal(err)
		}
		var got []string
		res, err := c.Scan(ctx, milvus.ScanRequest{Database: "default", Collection: name, PrimaryKey: pk, BatchRows: 64},
			func(b milvus.Batch) error {
				for _, f := range b.Fields {
					if f.GetFieldName() == "k" {
						got = append(got, f.GetScalars().GetStringData().GetData()...)
					}
				}
				return nil
			})
		if err != nil {
			t.Fatal(err)
		}
		want := slices.Clone(keys)
		slices.Sort(want)
		if res.Rows != int64(len(want)) || !slices.Equal(got, want) {
			t.Fatalf("scan returned %d keys (res.Rows %d), want %d in order; first got %q", len(got), res.Rows, len(want), got[:min(5, len(got))])
		}
	})
}

// awkwardKeys returns distinct keys with quotes, backslashes, spaces and
// non-ASCII characters.
func awkwardKeys(n int) []string {
	parts := []string{`"`, `\`, `'`, ` `, "ü", "✓", "a", "Z", "0", `\"`, "}"}
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%d%s", parts[i%len(parts)], i, parts[(i/len(parts))%len(parts)])
	}
	return out
}

func insertKeys(t *testing.T, c *milvus.Client, name string, keys []string) {
	t.Helper()
	vecs := make([]float32, 2*len(keys))
	fields := []*schemapb.FieldData{
		milvus.VarCharColumn("k", keys),
		milvus.FloatVectorColumn("v", 2, vecs),
	}
	if err := c.Insert(context.Background(), "default", name, "", fields, len(keys)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Flush(context.Background(), "default", name); err != nil {
		t.Fatal(err)
	}
}
