package restore_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"

	"github.com/milvault/milvault/backup"
	"github.com/milvault/milvault/internal/testenv"
	"github.com/milvault/milvault/milvus"
	"github.com/milvault/milvault/restore"
)

// TestNullableWithDefaultKeepsNulls backs up a field that is both nullable
// and has a default value, inserted with some rows null, and checks that
// the restored rows equal the source's: nulls stay nulls (not the
// default) on a server that stores them, on every server with both
// features. (Milvus Lite 3 stores the default for an inserted null.)
func TestNullableWithDefaultKeepsNulls(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, tg testenv.Target, c *milvus.Client) {
		ctx := context.Background()
		caps := testenv.RequireCapabilities(t, c, "nullable fields with default values", func(caps milvus.Capabilities) bool {
			return caps.Nullable && caps.DefaultValue
		})
		name := fmt.Sprintf("nulldef_%d", time.Now().UnixNano()%1e9)
		createNullDefault(t, c, name)
		r := testenv.LocalRepo(t)
		res, err := backup.Run(ctx, backup.Deps{Milvus: c, Repo: r}, backup.Params{Collections: []string{name}})
		if err != nil {
			t.Fatal(err)
		}
		target := name + "_r"
		if _, err := restore.Run(ctx, restore.Deps{Milvus: c, Repo: r}, res.Manifest, restore.Params{Target: target, Load: restore.LoadAlways}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.DropCollection(context.Background(), "default", target) })
		src := nullPattern(t, c, name)
		switch src {
		case "0 n 2 n 4 n 6 n 8 n":
			t.Logf("%s keeps inserted nulls as nulls", caps.Server)
		case "0 7 2 7 4 7 6 7 8 7":
			t.Logf("%s stores the default for an inserted null: the collection holds no nulls to keep", caps.Server)
		default:
			t.Fatalf("source nd by key = %q (n: null), want the inserted values with nulls or defaults", src)
		}
		if got := nullPattern(t, c, target); got != src {
			t.Errorf("restored nd by key = %q, source %q (n: null)", got, src)
		}
	})
}

// createNullDefault creates name with field nd (nullable, default 7) and
// ten rows: nd is the key for even keys, null for odd ones.
func createNullDefault(t *testing.T, c *milvus.Client, name string) {
	t.Helper()
	ctx := context.Background()
	s := &schemapb.CollectionSchema{Name: name, Fields: []*schemapb.FieldSchema{
		{FieldID: 100, Name: "pk", DataType: schemapb.DataType_Int64, IsPrimaryKey: true},
		{FieldID: 101, Name: "v", DataType: schemapb.DataType_FloatVector, TypeParams: []*commonpb.KeyValuePair{{Key: "dim", Value: "2"}}},
		{FieldID: 102, Name: "nd", DataType: schemapb.DataType_Int32, Nullable: true,
			DefaultValue: &schemapb.ValueField{Data: &schemapb.ValueField_IntData{IntData: 7}}},
	}}
	if err := c.CreateCollection(ctx, milvus.CreateCollectionRequest{Database: "default", Schema: s, ShardsNum: 1}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.DropCollection(context.Background(), "default", name) })
	keys := []int64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	var vals []int32
	valid := make([]bool, len(keys))
	for i, k := range keys {
		if valid[i] = k%2 == 0; valid[i] {
			vals = append(vals, int32(k))
		}
	}
	fields := []*schemapb.FieldData{
		{FieldName: "pk", Type: schemapb.DataType_Int64, Field: &schemapb.FieldData_Scalars{Scalars: &schemapb.ScalarField{Data: &schemapb.ScalarField_LongData{LongData: &schemapb.LongArray{Data: keys}}}}},
		{FieldName: "v", Type: schemapb.DataType_FloatVector, Field: &schemapb.FieldData_Vectors{Vectors: &schemapb.VectorField{Dim: 2, Data: &schemapb.VectorField_FloatVector{FloatVector: &schemapb.FloatArray{Data: make([]float32, 2*len(keys))}}}}},
		{FieldName: "nd", Type: schemapb.DataType_Int32, ValidData: valid, Field: &schemapb.FieldData_Scalars{Scalars: &schemapb.ScalarField{Data: &schemapb.ScalarField_IntData{IntData: &schemapb.IntArray{Data: vals}}}}},
	}
	if err := c.Insert(ctx, "default", name, "", fields, len(keys)); err != nil {
		t.Fatal(err)
	}
	if err := c.CreateIndex(ctx, "default", name, "v", "v_idx", map[string]string{"index_type": "FLAT", "metric_type": "L2"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Load(ctx, "default", name, nil); err != nil {
		t.Fatal(err)
	}
}

// nullPattern reads nd of every row in key order: the value, or "n" for null.
func nullPattern(t *testing.T, c *milvus.Client, coll string) string {
	t.Helper()
	pk := &schemapb.FieldSchema{Name: "pk", DataType: schemapb.DataType_Int64}
	var out []string
	_, err := c.Scan(context.Background(), milvus.ScanRequest{Database: "default", Collection: coll, PrimaryKey: pk, BatchRows: 100}, func(b milvus.Batch) error {
		for _, f := range b.Fields {
			if f.GetFieldName() != "nd" {
				continue
			}
			data, valid := f.GetScalars().GetIntData().GetData(), f.GetValidData()
			j := 0
			for i := 0; i < b.Rows; i++ {
				switch {
				case len(valid) > 0 && !valid[i]:
					out = append(out, "n")
					if len(data) == b.Rows {
						j++ // the full form keeps a placeholder for nulls
					}
				default:
					out = append(out, fmt.Sprint(data[j]))
					j++
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(out, " ")
}
