package drill

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"

	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/milvus"
	"github.com/milvault/milvault/restore"
)

// sparseTopK is how many results a sparse sample search compares.
const sparseTopK = 10

// sparseTolerance is the relative difference allowed between a score the
// server returns and the one computed from the backup (float32 sums in a
// different order).
const sparseTolerance = 1e-4

// sparseVec is a sparse vector: index to value.
type sparseVec map[uint32]float32

// searchSparse searches the scratch collection with the sparse vectors of
// sampled backup rows and compares the top scores the server returns with
// the exact inner-product top scores over every row of the backup. A row
// restored with a wrong or missing value changes a score or the ranking, so
// it shows as a mismatch. Scores, not keys, are compared: rows with equal
// scores may come back in any order.
func searchSparse(ctx context.Context, d Deps, mc *manifest.Collection, schema *schemapb.CollectionSchema, rc restore.CollectionResult, tg target, n int, cr *CollectionResult) error {
	queries, err := sparseSamples(ctx, d, mc, schema, tg.index.Field, n)
	if err != nil || len(queries) == 0 {
		return err
	}
	want, err := sparseTopScores(ctx, d, mc, schema, tg.index.Field, queries)
	if err != nil {
		return err
	}
	for i, q := range queries {
		hits, err := d.Milvus.SearchHits(ctx, milvus.SearchRequest{Database: rc.Database, Collection: rc.Name,
			Field: tg.index.Field, Metric: tg.metric, TopK: sparseTopK, Sparse: q.wire(), Params: `{"drop_ratio_search": 0}`})
		if err != nil {
			return err
		}
		cr.Searches++
		if msg := compareScores(hits, want[i]); msg != "" {
			cr.Mismatches = append(cr.Mismatches, fmt.Sprintf("%s sample %d: %s", tg.index.Field, i, msg))
		} else {
			cr.SearchHits++
		}
	}
	return nil
}

// compareScores checks the positive scores of hits against want, both best
// first.
func compareScores(hits []milvus.Hit, want []float64) string {
	var got []float64
	for _, h := range hits {
		if h.Score > 0 {
			got = append(got, float64(h.Score))
		}
	}
	if len(got) != len(want) {
		return fmt.Sprintf("%d results with a positive score, the backup has %d", len(got), len(want))
	}
	for i := range got {
		if math.Abs(got[i]-want[i]) > sparseTolerance*max(math.Abs(want[i]), 1e-3) {
			return fmt.Sprintf("result %d scores %g, the backup gives %g", i+1, got[i], want[i])
		}
	}
	return ""
}

// wire encodes v in the server's sparse row form, sorted by index.
func (v sparseVec) wire() []byte {
	idx := make([]uint32, 0, len(v))
	for k := range v {
		idx = append(idx, k)
	}
	slices.Sort(idx)
	out := make([]byte, 0, 8*len(idx))
	for _, k := range idx {
		out = binary.LittleEndian.AppendUint32(out, k)
		out = binary.LittleEndian.AppendUint32(out, math.Float32bits(v[k]))
	}
	return out
}

// sparseSamples takes up to n evenly spaced non-empty sparse vectors from
// the collection's first non-empty data file.
func sparseSamples(ctx context.Context, d Deps, mc *manifest.Collection, schema *schemapb.CollectionSchema, field string, n int) ([]sparseVec, error) {
	f, ok := firstFile(mc)
	if !ok {
		return nil, nil
	}
	var out []sparseVec
	step, seen := max(1, int(f.Rows)/n), 0
	err := eachSparse(ctx, d, schema, f, field, func(v sparseVec) {
		if len(out) < n && seen%step == 0 && len(v) > 0 {
			out = append(out, v)
		}
		seen++
	})
	return out, err
}

// sparseTopScores returns, for each query, the sparseTopK best positive
// inner products over every row of the backup, best first. An index from
// vector position to the queries using it makes the cost per row the
// number of its values, whatever the number of queries.
func sparseTopScores(ctx context.Context, d Deps, mc *manifest.Collection, schema *schemapb.CollectionSchema, field string, queries []sparseVec) ([][]float64, error) {
	type use struct {
		query int
		value float64
	}
	uses := map[uint32][]use{}
	for i, q := range queries {
		for k, x := range q {
			uses[k] = append(uses[k], use{i, float64(x)})
		}
	}
	top := make([][]float64, len(queries))
	sums := make([]float64, len(queries))
	for _, p := range mc.Partitions {
		for _, f := range p.Files {
			err := eachSparse(ctx, d, schema, f, field, func(v sparseVec) {
				clear(sums)
				for k, x := range v {
					for _, u := range uses[k] {
						sums[u.query] += u.value * float64(x)
					}
				}
				for i, s := range sums {
					if s > 0 {
						top[i] = keepTop(top[i], s)
					}
				}
			})
			if err != nil {
				return nil, err
			}
		}
	}
	return top, nil
}

// keepTop inserts s into the descending list top, keeping sparseTopK.
func keepTop(top []float64, s float64) []float64 {
	if len(top) == sparseTopK && s <= top[len(top)-1] {
		return top
	}
	i, _ := slices.BinarySearchFunc(top, s, func(a, b float64) int {
		switch {
		case a > b:
			return -1
		case a < b:
			return 1
		}
		return 0
	})
	top = slices.Insert(top, i, s)
	if len(top) > sparseTopK {
		top = top[:sparseTopK]
	}
	return top
}

// eachSparse calls fn with the sparse vector of every non-null row of the
// data file f.
func eachSparse(ctx context.Context, d Deps, schema *schemapb.CollectionSchema, f manifest.File, field string, fn func(sparseVec)) error {
	return d.Repo.EachRecord(ctx, schema, f, sampleBatchRows, func(rec arrow.RecordBatch) error {
		idx := rec.Schema().FieldIndices(field)
		if len(idx) == 0 {
			return fmt.Errorf("backup files lack column %s", field)
		}
		col, ok := rec.Column(idx[0]).(*array.String)
		if !ok {
			return fmt.Errorf("column %s does not hold sparse vectors as text", field)
		}
		for i := 0; i < col.Len(); i++ {
			if col.IsNull(i) {
				continue
			}
			v, err := parseSparse(col.Value(i))
			if err != nil {
				return fmt.Errorf("column %s: %w", field, err)
			}
			fn(v)
		}
		return nil
	})
}

// parseSparse reads the backup's text form {"index": value, ...}.
func parseSparse(text string) (sparseVec, error) {
	var m map[string]float32
	if err := json.Unmarshal([]byte(text), &m); err != nil {
		return nil, fmt.Errorf("sparse vector %.40q: %w", text, err)
	}
	v := make(sparseVec, len(m))
	for k, x := range m {
		i, err := strconv.ParseUint(k, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("sparse vector index %q: %w", k, err)
		}
		v[uint32(i)] = x
	}
	return v, nil
}
