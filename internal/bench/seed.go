package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"

	"github.com/milvault/milvault/milvus"
)

// The benchmark collection looks like a real RAG deployment: 768-d
// embeddings (the size of most sentence-transformer models) with a text,
// a JSON metadata document and two scalars.
const (
	dim            = 768
	seedBatchBytes = 12 << 20 // seeding inserts stay under the 16 MiB a proxy comfortably takes
)

// benchSchema is the schema of the benchmark collections.
func benchSchema(name string) *schemapb.CollectionSchema {
	kv := func(k, v string) []*commonpb.KeyValuePair { return []*commonpb.KeyValuePair{{Key: k, Value: v}} }
	return &schemapb.CollectionSchema{Name: name, Description: "milvault benchmark", Fields: []*schemapb.FieldSchema{
		{Name: "id", DataType: schemapb.DataType_Int64, IsPrimaryKey: true},
		{Name: "embedding", DataType: schemapb.DataType_FloatVector, TypeParams: kv("dim", fmt.Sprint(dim))},
		{Name: "title", DataType: schemapb.DataType_VarChar, TypeParams: kv("max_length", "512")},
		{Name: "meta", DataType: schemapb.DataType_JSON},
		{Name: "views", DataType: schemapb.DataType_Int32},
		{Name: "score", DataType: schemapb.DataType_Float},
	}}
}

// batch is one Insert call's columns and their raw size.
type batch struct {
	fields []*schemapb.FieldData
	rows   int
	bytes  int64 // raw bytes: ids, vectors, scalars, string and JSON payloads
}

// generator makes deterministic rows: row i is the same in every run.
type generator struct{ rng *rand.Rand }

func newGenerator() *generator { return &generator{rng: rand.New(rand.NewPCG(42, 768))} }

// next returns rows [start, start+n).
func (g *generator) next(start, n int) batch {
	ids := make([]int64, n)
	titles := make([]string, n)
	metas := make([][]byte, n)
	views := make([]int32, n)
	scores := make([]float32, n)
	vecs := make([]float32, n*dim)
	b := batch{rows: n, bytes: int64(n) * (8 + 4*dim + 4 + 4)}
	for i := range n {
		id := int64(start + i)
		ids[i], views[i], scores[i] = id, int32(g.rng.IntN(1_000_000)), g.rng.Float32()
		titles[i] = fmt.Sprintf("Document %d: notes on vector search, release %d, section %d", id, id%97, id%13)
		metas[i] = fmt.Appendf(nil, `{"source":"crawl-%d","lang":"en","tags":["t%d","t%d"],"published":"2024-%02d-%02d"}`,
			id%17, id%7, id%11, 1+id%12, 1+id%28)
		b.bytes += int64(len(titles[i]) + len(metas[i]))
	}
	for i := range vecs {
		vecs[i] = g.rng.Float32()
	}
	scalar := func(name string, t schemapb.DataType, s *schemapb.ScalarField) *schemapb.FieldData {
		return &schemapb.FieldData{FieldName: name, Type: t, Field: &schemapb.FieldData_Scalars{Scalars: s}}
	}
	b.fields = []*schemapb.FieldData{
		scalar("id", schemapb.DataType_Int64, &schemapb.ScalarField{Data: &schemapb.ScalarField_LongData{LongData: &schemapb.LongArray{Data: ids}}}),
		{FieldName: "embedding", Type: schemapb.DataType_FloatVector, Field: &schemapb.FieldData_Vectors{Vectors: &schemapb.VectorField{
			Dim: dim, Data: &schemapb.VectorField_FloatVector{FloatVector: &schemapb.FloatArray{Data: vecs}}}}},
		scalar("title", schemapb.DataType_VarChar, &schemapb.ScalarField{Data: &schemapb.ScalarField_StringData{StringData: &schemapb.StringArray{Data: titles}}}),
		scalar("meta", schemapb.DataType_JSON, &schemapb.ScalarField{Data: &schemapb.ScalarField_JsonData{JsonData: &schemapb.JSONArray{Data: metas}}}),
		scalar("views", schemapb.DataType_Int32, &schemapb.ScalarField{Data: &schemapb.ScalarField_IntData{IntData: &schemapb.IntArray{Data: views}}}),
		scalar("score", schemapb.DataType_Float, &schemapb.ScalarField{Data: &schemapb.ScalarField_FloatData{FloatData: &schemapb.FloatArray{Data: scores}}}),
	}
	return b
}

// batches pre-builds all rows in batches of batchRows rows.
func batches(rows, batchRows int) ([]batch, int64) {
	g := newGenerator()
	var out []batch
	var total int64
	for start := 0; start < rows; start += batchRows {
		b := g.next(start, min(batchRows, rows-start))
		out = append(out, b)
		total += b.bytes
	}
	return out, total
}

// seedResult is how long seeding took.
type seedResult struct {
	rawBytes   int64
	insertSecs float64 // inserts and flush
	indexSecs  float64 // index build and load
}

// seed creates coll with rows rows in batches under 16 MiB, flushes it,
// builds the chosen L2 index (HNSW by default) and loads it, as a real deployment would be.
func seed(ctx context.Context, c *milvus.Client, coll string, rows int, index string) (seedResult, error) {
	var res seedResult
	schema := benchSchema(coll)
	if err := c.CreateCollection(ctx, milvus.CreateCollectionRequest{Database: "default", Schema: schema, ShardsNum: 1}); err != nil {
		return res, err
	}
	batchRows := max(1, seedBatchBytes/milvus.EstimateRowBytes(schema))
	g := newGenerator()
	start := time.Now()
	for from := 0; from < rows; from += batchRows {
		b := g.next(from, min(batchRows, rows-from))
		if err := c.Insert(ctx, "default", coll, "", b.fields, b.rows); err != nil {
			return res, err
		}
		res.rawBytes += b.bytes
	}
	if _, err := c.Flush(ctx, "default", coll); err != nil {
		return res, err
	}
	res.insertSecs = time.Since(start).Seconds()
	start = time.Now()
	if err := createIndex(ctx, c, coll, index); err != nil {
		return res, err
	}
	if err := c.Load(ctx, "default", coll, nil); err != nil {
		return res, err
	}
	res.indexSecs = time.Since(start).Seconds()
	return res, nil
}

// indexParams are the build parameters of the indexes -index offers.
var indexParams = map[string]string{
	"HNSW":     `{"M":16,"efConstruction":64}`,
	"IVF_FLAT": `{"nlist":1024}`,
	"FLAT":     `{}`,
}

func createIndex(ctx context.Context, c *milvus.Client, coll, index string) error {
	return c.CreateIndex(ctx, "default", coll, "embedding", "embedding_idx",
		map[string]string{"index_type": index, "metric_type": "L2", "params": indexParams[index]})
}
