package backup_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"

	"github.com/milvault/milvault/backup"
	"github.com/milvault/milvault/internal/testenv"
	"github.com/milvault/milvault/milvus"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/mem"
)

// tinyDisk is a store that reports almost no free space.
type tinyDisk struct{ *mem.Store }

func (tinyDisk) FreeSpace() (int64, error) { return 1000, nil }

// TestRefusesWhenSpaceIsShort also checks that a released collection is
// loaded for the backup and released again.
func TestRefusesWhenSpaceIsShort(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, tg testenv.Target, c *milvus.Client) {
		ctx := context.Background()
		name := smallCollection(t, c, 500)
		store := tinyDisk{mem.New()}
		r, err := repo.OpenOrInit(ctx, store)
		if err != nil {
			t.Fatal(err)
		}
		_, err = backup.Run(ctx, backup.Deps{Milvus: c, Repo: r}, backup.Params{Collections: []string{name}})
		var ise *backup.InsufficientStorageError
		if !errors.As(err, &ise) || ise.Required < 500*4*8 || ise.Available != 1000 {
			t.Fatalf("backup error = %v, want InsufficientStorageError with required >= %d and available 1000", err, 500*4*8)
		}
		if files, _ := store.List(ctx, "data/"); len(files) != 0 {
			t.Fatalf("refused backup left %d data files", len(files))
		}
		before, err := c.LoadState(ctx, "default", name)
		if err != nil {
			t.Fatal(err)
		}
		res, err := backup.Run(ctx, backup.Deps{Milvus: c, Repo: r}, backup.Params{Collections: []string{name}, SkipSpaceCheck: true})
		if err != nil || res.Manifest.TotalRows() != 500 {
			t.Fatalf("backup with SkipSpaceCheck = %v, %v; want 500 rows", res, err)
		}
		// A released collection (Milvus 2.3; lite loads new collections by
		// itself) is loaded for the backup and released again.
		if got := res.Manifest.Collections[0].LoadState; got != before {
			t.Errorf("manifest load state = %s, want %s", got, before)
		}
		if st, err := c.LoadState(ctx, "default", name); err != nil || st != before {
			t.Errorf("load state after backup = %s, %v; want %s", st, err, before)
		}
	})
}

// smallCollection creates a flushed collection of n rows (int64 key, 8-d
// vector) and drops it when the test ends.
func smallCollection(t *testing.T, c *milvus.Client, n int) string {
	t.Helper()
	ctx := context.Background()
	name := fmt.Sprintf("bk_space_%d", rand.Uint32())
	schema := &schemapb.CollectionSchema{Name: name, Fields: []*schemapb.FieldSchema{
		{Name: "id", DataType: schemapb.DataType_Int64, IsPrimaryKey: true},
		{Name: "v", DataType: schemapb.DataType_FloatVector, TypeParams: []*commonpb.KeyValuePair{{Key: "dim", Value: "8"}}},
	}}
	if err := c.CreateCollection(ctx, milvus.CreateCollectionRequest{Database: "default", Schema: schema}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.DropCollection(context.Background(), "default", name) })
	ids := make([]int64, n)
	vecs := make([]float32, 8*n)
	for i := range ids {
		ids[i] = int64(i)
		vecs[8*i] = float32(i)
	}
	fields := []*schemapb.FieldData{
		{FieldName: "id", Type: schemapb.DataType_Int64, Field: &schemapb.FieldData_Scalars{Scalars: &schemapb.ScalarField{Data: &schemapb.ScalarField_LongData{LongData: &schemapb.LongArray{Data: ids}}}}},
		{FieldName: "v", Type: schemapb.DataType_FloatVector, Field: &schemapb.FieldData_Vectors{Vectors: &schemapb.VectorField{Dim: 8, Data: &schemapb.VectorField_FloatVector{FloatVector: &schemapb.FloatArray{Data: vecs}}}}},
	}
	if err := c.Insert(ctx, "default", name, "", fields, n); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Flush(ctx, "default", name); err != nil {
		t.Fatal(err)
	}
	if err := c.CreateIndex(ctx, "default", name, "v", "v_flat", map[string]string{"index_type": "FLAT", "metric_type": "L2"}); err != nil {
		t.Fatal(err)
	}
	return name
}
