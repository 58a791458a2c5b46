package drill

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

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

// searchable returns the first float-vector index whose metric makes a row
// its own nearest neighbour (L2, COSINE).
func searchable(mc *manifest.Collection) (manifest.Index, string) {
	for _, idx := range mc.Indexes {
		metric := strings.ToUpper(idx.Params["metric_type"])
		if metric == "L2" || metric == "COSINE" {
			return idx, metric
		}
	}
	return manifest.Index{}, ""
}

// sampleSearches searches the scratch collection with vectors of rows taken
// from the backup and counts the searches that find their own row.
func sampleSearches(ctx context.Context, d Deps, mc *manifest.Collection, rc restore.CollectionResult, n int, cr *CollectionResult) error {
	idx, metric := searchable(mc)
	if metric == "" {
		cr.SearchSkipped = "no L2 or COSINE index on a float vector field"
		return nil
	}
	samples, err := sampleRows(ctx, d, mc, idx.Field, n)
	if err != nil {
		return err
	}
	for _, s := range samples {
		ids, err := d.Milvus.Search(ctx, milvus.SearchRequest{Database: rc.Database, Collection: rc.Name,
			Field: idx.Field, Metric: metric, Vector: s.vector, TopK: 10, Params: `{"ef": 64, "nprobe": 16}`})
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

type sample struct {
	key    any
	vector []float32
}

// sampleRows takes up to n evenly spaced rows from the collection's first
// non-empty data file.
func sampleRows(ctx context.Context, d Deps, mc *manifest.Collection, field string, n int) ([]sample, error) {
	f, ok := firstFile(mc)
	if !ok {
		return nil, nil
	}
	schema, err := mc.DecodeSchema()
	if err != nil {
		return nil, err
	}
	pk := milvus.PrimaryField(schema)
	if pk == nil {
		return nil, fmt.Errorf("schema of %s has no primary key", mc.QualifiedName())
	}
	var out []sample
	step := max(1, int(f.Rows)/n)
	seen := 0
	err = d.Repo.EachRecord(ctx, schema, f, sampleBatchRows, func(rec arrow.RecordBatch) error {
		keys, vecs, err := keyAndVector(rec, pk.GetName(), field)
		if err != nil {
			return err
		}
		for i := 0; i < int(rec.NumRows()) && len(out) < n; i++ {
			if (seen+i)%step == 0 {
				start, end := vecs.ValueOffsets(i)
				v := vecs.ListValues().(*array.Float32).Float32Values()[start:end]
				out = append(out, sample{key: verify.KeyAt(keys, i), vector: slices.Clone(v)})
			}
		}
		seen += int(rec.NumRows())
		return nil
	})
	return out, err
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
		return nil, nil, fmt.Errorf("column %s is not a float vector list", field)
	}
	return rec.Column(ki[0]), vecs, nil
}
