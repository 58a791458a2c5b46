package drill

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"

	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/milvus"
	"github.com/milvault/milvault/restore"
	"github.com/milvault/milvault/verify"
)

// checkCollections checks row counts and sample searches of each restored
// scratch collection.
func checkCollections(ctx context.Context, d Deps, m *manifest.Manifest, o Options, res *restore.Result, rep *Report) {
	for _, rc := range res.Collections {
		mc := findCollection(m, rc.Source)
		cr := CollectionResult{Source: rc.Source, Scratch: rc.Database + "." + rc.Name, Rows: rc.Rows, ExpectedRows: mc.Rows}
		if cr.Rows != cr.ExpectedRows {
			rep.Failures = append(rep.Failures, fmt.Sprintf("%s: %d rows restored, backup holds %d", rc.Source, cr.Rows, cr.ExpectedRows))
		}
		if err := sampleSearches(ctx, d, mc, rc, o.Samples, &cr); err != nil {
			rep.Failures = append(rep.Failures, fmt.Sprintf("%s: sample searches: %v", rc.Source, err))
		} else if len(cr.Mismatches) > 0 {
			rep.Failures = append(rep.Failures, fmt.Sprintf("%s: sparse sample searches differ from the backup or the source: %s", rc.Source, strings.Join(cr.Mismatches, "; ")))
		} else if cr.Searches > 0 && float64(cr.SearchHits) < minHitRate*float64(cr.Searches) {
			rep.Failures = append(rep.Failures, fmt.Sprintf("%s: only %d of %d sample searches found their own row in the top 10", rc.Source, cr.SearchHits, cr.Searches))
		}
		rep.Collections = append(rep.Collections, cr)
	}
}

func findCollection(m *manifest.Manifest, qualified string) *manifest.Collection {
	if found := m.Lookup(qualified); len(found) == 1 {
		return found[0]
	}
	return &manifest.Collection{}
}

// target is a vector index the sample searches use: one whose metric makes
// a row its own nearest neighbour (L2 and COSINE on float vectors, HAMMING
// and JACCARD on binary vectors), or an IP index on sparse vectors, whose
// results are checked against scores computed from the backup.
type target struct {
	index  manifest.Index
	metric string
	binary bool
	sparse bool
	bm25   bool
}

// searchable returns the indexes sample searches can use.
func searchable(mc *manifest.Collection, schema *schemapb.CollectionSchema) []target {
	types := map[string]schemapb.DataType{}
	for _, f := range schema.GetFields() {
		types[f.GetName()] = f.GetDataType()
	}
	var out []target
	for _, idx := range mc.Indexes {
		metric := strings.ToUpper(idx.Params["metric_type"])
		switch types[idx.Field] {
		case schemapb.DataType_FloatVector:
			if metric == "L2" || metric == "COSINE" {
				out = append(out, target{idx, metric, false, false, false})
			}
		case schemapb.DataType_BinaryVector:
			if metric == "HAMMING" || metric == "JACCARD" {
				out = append(out, target{idx, metric, true, false, false})
			}
		case schemapb.DataType_SparseFloatVector:
			if metric == "IP" {
				out = append(out, target{idx, metric, false, true, false})
			}
			if metric == "BM25" {
				out = append(out, target{idx, metric, false, false, true})
			}
		}
	}
	return out
}

// sampleSearches searches the scratch collection, on every searchable
// vector index, with vectors of rows taken from the backup and counts the
// searches that find their own row.
func sampleSearches(ctx context.Context, d Deps, mc *manifest.Collection, rc restore.CollectionResult, n int, cr *CollectionResult) error {
	schema, err := mc.DecodeSchema()
	if err != nil {
		return err
	}
	targets := searchable(mc, schema)
	if len(targets) == 0 {
		cr.SearchSkipped = "no L2 or COSINE index on a float vector field, nor HAMMING or JACCARD on a binary one, nor IP or BM25 on a sparse one"
		return nil
	}
	for _, tg := range targets {
		search := searchField
		if tg.sparse {
			search = searchSparse
		}
		if tg.bm25 {
			search = searchBM25
		}
		if err := search(ctx, d, mc, schema, rc, tg, n, cr); err != nil {
			return err
		}
	}
	return nil
}

func searchField(ctx context.Context, d Deps, mc *manifest.Collection, schema *schemapb.CollectionSchema, rc restore.CollectionResult, tg target, n int, cr *CollectionResult) error {
	samples, err := sampleRows(ctx, d, mc, schema, tg.index.Field, n)
	if err != nil {
		return err
	}
	for _, s := range samples {
		req := milvus.SearchRequest{Database: rc.Database, Collection: rc.Name,
			Field: tg.index.Field, Metric: tg.metric, TopK: 10, Params: `{"ef": 64, "nprobe": 16}`}
		if tg.binary {
			req.Binary = s.bytes
		} else {
			req.Vector = s.vector
		}
		ids, err := d.Milvus.Search(ctx, req)
		if err != nil {
			return err
		}
		cr.Searches++
		if slices.Contains(ids, s.key) {
			cr.SearchHits++
		}
	}
	return nil
}

// sampleBatchRows is the batch size used when reading sample rows.
const sampleBatchRows = 2048

// sample is a row's key and its vector: float values or binary bytes.
type sample struct {
	key    any
	vector []float32
	bytes  []byte
}

// sampleRows takes up to n evenly spaced rows from the collection's first
// non-empty data file.
func sampleRows(ctx context.Context, d Deps, mc *manifest.Collection, schema *schemapb.CollectionSchema, field string, n int) ([]sample, error) {
	f, ok := firstFile(mc)
	if !ok {
		return nil, nil
	}
	pk := milvus.PrimaryField(schema)
	if pk == nil {
		return nil, fmt.Errorf("schema of %s has no primary key", mc.QualifiedName())
	}
	var out []sample
	step := max(1, int(f.Rows)/n)
	seen := 0
	err := d.Repo.EachRecord(ctx, schema, f, sampleBatchRows, func(rec arrow.RecordBatch) error {
		keys, vecs, err := keyAndVector(rec, pk.GetName(), field)
		if err != nil {
			return err
		}
		for i := 0; i < int(rec.NumRows()) && len(out) < n; i++ {
			if (seen+i)%step == 0 {
				out = append(out, sampleAt(keys, vecs, i))
			}
		}
		seen += int(rec.NumRows())
		return nil
	})
	return out, err
}

// sampleAt copies row i's key and vector.
func sampleAt(keys arrow.Array, vecs *array.List, i int) sample {
	start, end := vecs.ValueOffsets(i)
	s := sample{key: verify.KeyAt(keys, i)}
	switch v := vecs.ListValues().(type) {
	case *array.Float32:
		s.vector = slices.Clone(v.Float32Values()[start:end])
	case *array.Uint8:
		s.bytes = slices.Clone(v.Uint8Values()[start:end])
	}
	return s
}

func firstFile(mc *manifest.Collection) (manifest.File, bool) {
	for _, p := range mc.Partitions {
		for _, f := range p.Files {
			if f.Rows > 0 {
				return f, true
			}
		}
	}
	return manifest.File{}, false
}

func keyAndVector(rec arrow.RecordBatch, pk, field string) (arrow.Array, *array.List, error) {
	ki, vi := rec.Schema().FieldIndices(pk), rec.Schema().FieldIndices(field)
	if len(ki) == 0 || len(vi) == 0 {
		return nil, nil, fmt.Errorf("backup files lack column %s or %s", pk, field)
	}
	vecs, ok := rec.Column(vi[0]).(*array.List)
	if !ok {
		return nil, nil, fmt.Errorf("column %s is not a vector list", field)
	}
	return rec.Column(ki[0]), vecs, nil
}
