package drill

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"

	"github.com/milvault/milvault/backup"
	"github.com/milvault/milvault/internal/testenv"
	"github.com/milvault/milvault/milvus"
	"github.com/milvault/milvault/restore"
)

// TestDrillSearchesSparseVectors drills a backup whose only vector field is
// sparse (IP): every sample search scores like the backup. Then it changes
// one value of a sampled row in the source collection and runs the same
// check against it: the check must report the difference.
func TestDrillSearchesSparseVectors(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, tg testenv.Target, c *milvus.Client) {
		ctx := context.Background()
		testenv.RequireCapabilities(t, c, "sparse vectors", func(caps milvus.Capabilities) bool {
			return caps.DataTypes[schemapb.DataType_SparseFloatVector]
		})
		name := fmt.Sprintf("drill_sparse_%d", time.Now().UnixNano()%1e9)
		const rows = 300
		createSparseCollection(t, c, name, rows)
		r := testenv.LocalRepo(t)
		res, err := backup.Run(ctx, backup.Deps{Milvus: c, Repo: r}, backup.Params{Collections: []string{name}})
		if err != nil {
			t.Fatal(err)
		}
		dr, err := Run(ctx, Deps{Repo: r, Milvus: c}, res.Manifest, Options{Samples: 8})
		if err != nil || !dr.OK {
			t.Fatalf("drill = %+v, %v; want OK", dr, err)
		}
		if cr := dr.Collections[0]; cr.Searches != 8 || cr.SearchHits != 8 || len(cr.Mismatches) != 0 {
			t.Fatalf("sparse sample searches: %+v; want 8 searches scoring like the backup", cr)
		}

		// Row 0 is the first sample; change one of its values in the source.
		if err := c.Delete(ctx, "default", name, "id in [0]"); err != nil {
			t.Fatal(err)
		}
		row := sparseRowOf(0)
		binary.LittleEndian.PutUint32(row[4:], math.Float32bits(math.Float32frombits(binary.LittleEndian.Uint32(row[4:]))+0.5))
		insertSparse(t, c, name, []int64{0}, [][]byte{row})
		var cr CollectionResult
		src := restore.CollectionResult{Database: "default", Name: name}
		if err := sampleSearches(ctx, Deps{Repo: r, Milvus: c}.withDefaults(), &res.Manifest.Collections[0], src, 8, &cr); err != nil {
			t.Fatal(err)
		}
		if len(cr.Mismatches) == 0 {
			t.Fatalf("a changed sparse value went unnoticed: %+v", cr)
		}
		t.Logf("mismatch found: %s", cr.Mismatches[0])
	})
}

// sparseRowOf returns row i's sparse vector in wire form: 6 distinct
// indexes below 200, increasing, with positive values.
func sparseRowOf(i int) []byte {
	var out []byte
	x := uint64(i)*0x9E3779B97F4A7C15 + 777
	idx := uint32(0)
	for range 6 {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		idx += 1 + uint32(x%30)
		out = binary.LittleEndian.AppendUint32(out, idx)
		out = binary.LittleEndian.AppendUint32(out, math.Float32bits(float32(x%1000)/100+0.01))
	}
	return out
}

func createSparseCollection(t *testing.T, c *milvus.Client, name string, n int) {
	t.Helper()
	ctx := context.Background()
	schema := &schemapb.CollectionSchema{Name: name, Fields: []*schemapb.FieldSchema{
		{Name: "id", DataType: schemapb.DataType_Int64, IsPrimaryKey: true},
		{Name: "sv", DataType: schemapb.DataType_SparseFloatVector},
	}}
	if err := c.CreateCollection(ctx, milvus.CreateCollectionRequest{Database: "default", Schema: schema}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.DropCollection(context.Background(), "default", name) })
	ids, vecs := make([]int64, n), make([][]byte, n)
	for i := range n {
		ids[i], vecs[i] = int64(i), sparseRowOf(i)
	}
	insertSparse(t, c, name, ids, vecs)
	if _, err := c.Flush(ctx, "default", name); err != nil {
		t.Fatal(err)
	}
	if err := c.CreateIndex(ctx, "default", name, "sv", "sv", map[string]string{"index_type": "SPARSE_INVERTED_INDEX", "metric_type": "IP"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Load(ctx, "default", name, nil); err != nil {
		t.Fatal(err)
	}
}

func insertSparse(t *testing.T, c *milvus.Client, name string, ids []int64, vecs [][]byte) {
	t.Helper()
	fields := []*schemapb.FieldData{milvus.Int64Column("id", ids),
		{FieldName: "sv", Type: schemapb.DataType_SparseFloatVector, Field: &schemapb.FieldData_Vectors{Vectors: &schemapb.VectorField{Dim: 200,
			Data: &schemapb.VectorField_SparseFloatVector{SparseFloatVector: &schemapb.SparseFloatArray{Dim: 200, Contents: vecs}}}}}}
	if err := c.Insert(context.Background(), "default", name, "", fields, len(ids)); err != nil {
		t.Fatal(err)
	}
}
