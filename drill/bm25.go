package drill

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"

	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/milvus"
	"github.com/milvault/milvault/restore"
	"github.com/milvault/milvault/verify"
)

// textSample is a row's key and the text a BM25 function reads.
type textSample struct {
	key  any
	text string
}

// searchBM25 searches the scratch collection's BM25 output field with texts
// of sampled backup rows. The backup does not hold BM25 outputs (the
// server computes them, with corpus statistics only it knows), so the
// scores are compared with the same search on the source collection when
// it still exists on the target server with the backup's row count: any
// difference is a mismatch (a source rewritten since the backup with its
// row count unchanged shows as one too; the message says so). Otherwise a search counts as a hit when it
// finds its own row among the top 10.
func searchBM25(ctx context.Context, d Deps, mc *manifest.Collection, schema *schemapb.CollectionSchema, rc restore.CollectionResult, tg target, n int, cr *CollectionResult) error {
	input := bm25Input(schema, tg.index.Field)
	if input == "" {
		return fmt.Errorf("no BM25 function writes field %s", tg.index.Field)
	}
	samples, err := textSamples(ctx, d, mc, schema, input, n)
	if err != nil {
		return err
	}
	source := sourceUnchanged(ctx, d, mc)
	for i, s := range samples {
		req := milvus.SearchRequest{Database: rc.Database, Collection: rc.Name, Field: tg.index.Field,
			Metric: tg.metric, TopK: sparseTopK, Text: s.text, Params: `{"drop_ratio_search": 0}`}
		got, err := d.Milvus.SearchHits(ctx, req)
		if err != nil {
			return err
		}
		cr.Searches++
		if !source {
			if slices.ContainsFunc(got, func(h milvus.Hit) bool { return h.Key == s.key }) {
				cr.SearchHits++
			}
			continue
		}
		req.Database, req.Collection = mc.Database, mc.Name
		want, err := d.Milvus.SearchHits(ctx, req)
		if err != nil {
			return err
		}
		if msg := sameScores(got, want); msg != "" {
			cr.Mismatches = append(cr.Mismatches, fmt.Sprintf("%s sample %d differs from the source collection (unless the source was written to since the backup): %s", tg.index.Field, i, msg))
		} else {
			cr.SearchHits++
		}
	}
	return nil
}

// sameScores compares the scores of two result lists, best first (keys
// may differ among equal scores).
func sameScores(got, want []milvus.Hit) string {
	if len(got) != len(want) {
		return fmt.Sprintf("%d results, the source gives %d", len(got), len(want))
	}
	for i := range got {
		g, w := float64(got[i].Score), float64(want[i].Score)
		if math.Abs(g-w) > sparseTolerance*max(math.Abs(w), 1e-3) {
			return fmt.Sprintf("result %d scores %g, the source gives %g", i+1, g, w)
		}
	}
	return ""
}

// sourceUnchanged reports whether the backed-up collection still exists on
// the target server with the backup's row count.
func sourceUnchanged(ctx context.Context, d Deps, mc *manifest.Collection) bool {
	if ok, err := d.Milvus.HasCollection(ctx, mc.Database, mc.Name); err != nil || !ok {
		return false
	}
	rows, err := d.Milvus.Count(ctx, mc.Database, mc.Name)
	return err == nil && rows == mc.Rows
}

// bm25Input returns the text field a BM25 function turns into output.
func bm25Input(schema *schemapb.CollectionSchema, output string) string {
	for _, fn := range schema.GetFunctions() {
		if fn.GetType() == schemapb.FunctionType_BM25 && slices.Contains(fn.GetOutputFieldNames(), output) && len(fn.GetInputFieldNames()) > 0 {
			return fn.GetInputFieldNames()[0]
		}
	}
	return ""
}

// textSamples takes up to n evenly spaced non-empty texts, with their keys,
// from the collection's first non-empty data file.
func textSamples(ctx context.Context, d Deps, mc *manifest.Collection, schema *schemapb.CollectionSchema, field string, n int) ([]textSample, error) {
	f, ok := firstFile(mc)
	pk := milvus.PrimaryField(schema)
	if !ok || pk == nil {
		return nil, nil
	}
	var out []textSample
	step, seen := max(1, int(f.Rows)/n), 0
	err := d.Repo.EachRecord(ctx, schema, f, sampleBatchRows, func(rec arrow.RecordBatch) error {
		ki, ti := rec.Schema().FieldIndices(pk.GetName()), rec.Schema().FieldIndices(field)
		if len(ki) == 0 || len(ti) == 0 {
			return fmt.Errorf("backup files lack column %s or %s", pk.GetName(), field)
		}
		texts, ok := rec.Column(ti[0]).(*array.String)
		if !ok {
			return fmt.Errorf("column %s is not text", field)
		}
		for i := 0; i < texts.Len() && len(out) < n; i++ {
			if (seen+i)%step == 0 && texts.IsValid(i) && texts.Value(i) != "" {
				out = append(out, textSample{verify.KeyAt(rec.Column(ki[0]), i), texts.Value(i)})
			}
		}
		seen += texts.Len()
		return nil
	})
	return out, err
}
