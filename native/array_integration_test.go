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

// TestNativeConvertArrayToLite: a native backup of a collection with Int64
// and VarChar Array fields (Milvus 2.3.5 writes each row's array as a
// serialized ScalarField), converted to a logical backup, restores into
// Milvus Lite by inserts equal row by row.
func TestNativeConvertArrayToLite(t *testing.T) {
	e := setup(t)
	lite := connectTarget(t, "lite")
	ctx := context.Background()
	name := makeArrayCollection(t, e.c, 1500)
	want := digest(t, e.c, name)
	r := newRepo(t)
	m := e.backup(t, r, name).Manifest
	conv, err := native.Convert(ctx, native.ConvertDeps{Repo: r}, m, backup.Params{Name: "converted"})
	if err != nil {
		t.Fatal(err)
	}
	if rep := checksumOK(t, r, conv.Manifest); !rep.OK {
		t.Fatalf("converted backup fails verify: %+v", rep)
	}
	t.Cleanup(func() { lite.DropCollection(context.Background(), "default", name) })
	if _, err := restore.Run(ctx, restore.Deps{Milvus: lite, Repo: r}, conv.Manifest, restore.Params{}); err != nil {
		t.Fatal(err)
	}
	if got := digest(t, lite, name); !reflect.DeepEqual(got, want) {
		t.Fatalf("rows restored into Lite from the converted backup differ:\n got %+v\nwant %+v", got, want)
	}
}

// makeArrayCollection creates a loaded collection with an Int64 array
// (up to 5 elements, some empty) and a VarChar array, and deletes rows.
func makeArrayCollection(t *testing.T, c *milvus.Client, rows int) string {
	t.Helper()
	ctx := context.Background()
	name := fmt.Sprintf("native_arr_%d", rand.Uint32())
	params := func(kv ...string) []*commonpb.KeyValuePair {
		var out []*commonpb.KeyValuePair
		for i := 0; i < len(kv); i += 2 {
			out = append(out, &commonpb.KeyValuePair{Key: kv[i], Value: kv[i+1]})
		}
		return out
	}
	schema := &schemapb.CollectionSchema{Name: name, Fields: []*schemapb.FieldSchema{
		{Name: "id", DataType: schemapb.DataType_Int64, IsPrimaryKey: true},
		{Name: "v", DataType: schemapb.DataType_FloatVector, TypeParams: params("dim", strconv.Itoa(dim))},
		{Name: "nums", DataType: schemapb.DataType_Array, ElementType: schemapb.DataType_Int64, TypeParams: params("max_capacity", "5")},
		{Name: "tags", DataType: schemapb.DataType_Array, ElementType: schemapb.DataType_VarChar, TypeParams: params("max_capacity", "3", "max_length", "16")},
	}}
	if err := c.CreateCollection(ctx, milvus.CreateCollectionRequest{Database: "default", Schema: schema}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.DropCollection(context.Background(), "default", name) })
	for s := 0; s < rows; s += 500 {
		cols := columns(s, min(s+500, rows), "")
		n := len(cols[0].GetScalars().GetLongData().GetData())
		nums, tags := &schemapb.ArrayArray{ElementType: schemapb.DataType_Int64}, &schemapb.ArrayArray{ElementType: schemapb.DataType_VarChar}
		for i := range n {
			var ns []int64
			for k := range (s + i) % 6 {
				ns = append(ns, int64((s+i)*10+k))
			}
			nums.Data = append(nums.Data, &schemapb.ScalarField{Data: &schemapb.ScalarField_LongData{LongData: &schemapb.LongArray{Data: ns}}})
			tags.Data = append(tags.Data, &schemapb.ScalarField{Data: &schemapb.ScalarField_StringData{StringData: &schemapb.StringArray{Data: []string{"t" + strconv.Itoa(i%4), "row"}}}})
		}
		fields := []*schemapb.FieldData{cols[0], cols[1], arrayColumn("nums", schemapb.DataType_Int64, nums), arrayColumn("tags", schemapb.DataType_VarChar, tags)}
		if err := c.Insert(ctx, "default", name, "", fields, n); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Flush(ctx, "default", name); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Delete(ctx, "default", name, "id in [4, 40, 400]"); err != nil {
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

func arrayColumn(name string, elem schemapb.DataType, a *schemapb.ArrayArray) *schemapb.FieldData {
	return &schemapb.FieldData{FieldName: name, Type: schemapb.DataType_Array, Field: &schemapb.FieldData_Scalars{
		Scalars: &schemapb.ScalarField{Data: &schemapb.ScalarField_ArrayData{ArrayData: a}}}}
}
