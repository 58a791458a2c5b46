package drill

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
	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/milvus"
	"github.com/milvault/milvault/restore"
)

// TestDrillSearchesBM25 drills a backup of a collection with a BM25
// function: with the source present the restored collection's BM25 scores
// equal the source's; a scratch copy with one text changed is reported;
// without the source each sampled text finds its own row.
func TestDrillSearchesBM25(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, tg testenv.Target, c *milvus.Client) {
		ctx := context.Background()
		testenv.RequireCapabilities(t, c, "BM25 functions", func(caps milvus.Capabilities) bool {
			return caps.Functions && caps.DataTypes[schemapb.DataType_SparseFloatVector]
		})
		name := fmt.Sprintf("drill_bm25_%d", time.Now().UnixNano()%1e9)
		createBM25Collection(t, c, name, 200)
		r := testenv.LocalRepo(t)
		res, err := backup.Run(ctx, backup.Deps{Milvus: c, Repo: r}, backup.Params{Collections: []string{name}})
		if err != nil {
			t.Fatal(err)
		}
		d := Deps{Repo: r, Milvus: c}.withDefaults()
		dr, err := Run(ctx, d, res.Manifest, Options{Samples: 8})
		if err != nil || !dr.OK {
			t.Fatalf("drill = %+v, %v; want OK", dr, err)
		}
		if cr := dr.Collections[0]; cr.Searches != 8 || cr.SearchHits != 8 || len(cr.Mismatches) != 0 {
			t.Fatalf("BM25 sample searches: %+v; want 8 searches scoring like the source", cr)
		}
		bm25Corruption(t, d, res.Manifest)

		// Without the source, each sampled text must find its own row.
		if err := c.DropCollection(ctx, "default", name); err != nil {
			t.Fatal(err)
		}
		dr, err = Run(ctx, d, res.Manifest, Options{Samples: 8})
		if err != nil || !dr.OK || dr.Collections[0].SearchHits < 7 {
			t.Fatalf("drill without the source = %+v, %v; want OK with at least 7 of 8 own-row hits", dr, err)
		}
	})
}

// bm25Corruption restores a scratch copy, changes the text of row 0 (the
// first sample) and checks that the sample searches report it.
func bm25Corruption(t *testing.T, d Deps, m *manifest.Manifest) {
	t.Helper()
	ctx := context.Background()
	res, drop, err := restore.Scratch(ctx, restore.Deps{Milvus: d.Milvus, Repo: d.Repo}, m, restore.Params{Load: restore.LoadAlways})
	defer drop()
	if err != nil {
		t.Fatal(err)
	}
	rc := res.Collections[0]
	if err := d.Milvus.Delete(ctx, rc.Database, rc.Name, "id in [0]"); err != nil {
		t.Fatal(err)
	}
	insertTexts(t, d.Milvus, rc.Name, []int64{0}, []string{"zebra quartz"})
	var cr CollectionResult
	if err := sampleSearches(ctx, d, &m.Collections[0], rc, 8, &cr); err != nil {
		t.Fatal(err)
	}
	if len(cr.Mismatches) == 0 {
		t.Fatalf("a changed text went unnoticed: %+v", cr)
	}
	t.Logf("mismatch found: %s", cr.Mismatches[0])
}

var bm25Words = strings.Fields("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike " +
	"november oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu amber basil cedar dune " +
	"ember fern grove heron iris jade koala lotus maple nectar olive pearl quill raven sage thyme umber vine willow")

// textOf returns row i's text: 8 words drawn from bm25Words.
func textOf(i int) string {
	x := uint64(i)*0x9E3779B97F4A7C15 + 99
	words := make([]string, 8)
	for k := range words {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		words[k] = bm25Words[x%uint64(len(bm25Words))]
	}
	return strings.Join(words, " ")
}

func createBM25Collection(t *testing.T, c *milvus.Client, name string, n int) {
	t.Helper()
	ctx := context.Background()
	schema := &schemapb.CollectionSchema{Name: name, Fields: []*schemapb.FieldSchema{
		{Name: "id", DataType: schemapb.DataType_Int64, IsPrimaryKey: true},
		{Name: "text", DataType: schemapb.DataType_VarChar, TypeParams: []*commonpb.KeyValuePair{
			{Key: "max_length", Value: "400"}, {Key: "enable_analyzer", Value: "true"}}},
		{Name: "bm", DataType: schemapb.DataType_SparseFloatVector, IsFunctionOutput: true},
	}, Functions: []*schemapb.FunctionSchema{{Name: "bm25", Type: schemapb.FunctionType_BM25,
		InputFieldNames: []string{"text"}, OutputFieldNames: []string{"bm"}}}}
	if err := c.CreateCollection(ctx, milvus.CreateCollectionRequest{Database: "default", Schema: schema}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.DropCollection(context.Background(), "default", name) })
	ids, texts := make([]int64, n), make([]string, n)
	for i := range n {
		ids[i], texts[i] = int64(i), textOf(i)
	}
	insertTexts(t, c, name, ids, texts)
	if _, err := c.Flush(ctx, "default", name); err != nil {
		t.Fatal(err)
	}
	if err := c.CreateIndex(ctx, "default", name, "bm", "bm", map[string]string{"index_type": "SPARSE_INVERTED_INDEX", "metric_type": "BM25"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Load(ctx, "default", name, nil); err != nil {
		t.Fatal(err)
	}
}

func insertTexts(t *testing.T, c *milvus.Client, name string, ids []int64, texts []string) {
	t.Helper()
	fields := []*schemapb.FieldData{milvus.Int64Column("id", ids), milvus.VarCharColumn("text", texts)}
	if err := c.Insert(context.Background(), "default", name, "", fields, len(ids)); err != nil {
		t.Fatal(err)
	}
}
