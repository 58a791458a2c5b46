package drill_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"

	"github.com/milvault/milvault/backup"
	"github.com/milvault/milvault/drill"
	"github.com/milvault/milvault/internal/testenv"
	"github.com/milvault/milvault/milvus"
)

// TestDrillSearchesBinaryVectors drills a backup whose only vector field is
// binary (HAMMING): the sample searches run on it and find their rows.
func TestDrillSearchesBinaryVectors(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, tg testenv.Target, c *milvus.Client) {
		ctx := context.Background()
		testenv.RequireCapabilities(t, c, "binary vectors", func(caps milvus.Capabilities) bool {
			return caps.DataTypes[schemapb.DataType_BinaryVector]
		})
		name := fmt.Sprintf("drill_bin_%d", time.Now().UnixNano()%1e9)
		createBinaryCollection(t, c, name, 300)
		r := testenv.LocalRepo(t)
		res, err := backup.Run(ctx, backup.Deps{Milvus: c, Repo: r}, backup.Params{Collections: []string{name}})
		if err != nil {
			t.Fatal(err)
		}
		dr, err := drill.Run(ctx, drill.Deps{Repo: r, Milvus: c}, res.Manifest, drill.Options{Samples: 8})
		if err != nil || !dr.OK {
			t.Fatalf("drill = %+v, %v; want OK", dr, err)
		}
		if cr := dr.Collections[0]; cr.Searches != 8 || cr.SearchHits < 7 || cr.SearchSkipped != "" {
			t.Fatalf("binary sample searches: %d of %d found their row (skipped: %q); want 8 searches, at least 7 hits", cr.SearchHits, cr.Searches, cr.SearchSkipped)
		}
	})
}

func createBinaryCollection(t *testing.T, c *milvus.Client, name string, n int) {
	t.Helper()
	ctx := context.Background()
	schema := &schemapb.CollectionSchema{Name: name, Fields: []*schemapb.FieldSchema{
		{Name: "id", DataType: schemapb.DataType_Int64, IsPrimaryKey: true},
		{Name: "b", DataType: schemapb.DataType_BinaryVector, TypeParams: []*commonpb.KeyValuePair{{Key: "dim", Value: "64"}}},
	}}
	if err := c.CreateCollection(ctx, milvus.CreateCollectionRequest{Database: "default", Schema: schema}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.DropCollection(context.Background(), "default", name) })
	ids, bits := make([]int64, n), make([]byte, 0, 8*n)
	for i := range n {
		ids[i] = int64(i)
		x := uint64(i)*0x9E3779B97F4A7C15 + 12345
		for range 8 {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
			bits = append(bits, byte(x))
		}
	}
	fields := []*schemapb.FieldData{milvus.Int64Column("id", ids),
		{FieldName: "b", Type: schemapb.DataType_BinaryVector, Field: &schemapb.FieldData_Vectors{Vectors: &schemapb.VectorField{Dim: 64, Data: &schemapb.VectorField_BinaryVector{BinaryVector: bits}}}}}
	if err := c.Insert(ctx, "default", name, "", fields, n); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Flush(ctx, "default", name); err != nil {
		t.Fatal(err)
	}
	if err := c.CreateIndex(ctx, "default", name, "b", "b", map[string]string{"index_type": "BIN_FLAT", "metric_type": "HAMMING"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Load(ctx, "default", name, nil); err != nil {
		t.Fatal(err)
	}
}
