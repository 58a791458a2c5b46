package verify

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"

	"github.com/milvault/milvault/columnar"
	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/milvus"
	"github.com/milvault/milvault/progress"
	"github.com/milvault/milvault/repo"
)

// Modes of verification.
const (
	ModeChecksum = "checksum"
	ModeQuick    = "quick"
	ModeDeep     = "deep"
)

// maxSampledRows bounds the rows a quick verification keeps per collection
// for comparison with the source.
const maxSampledRows = 1000

// Report is the outcome of a verification.
type Report struct {
	BackupID string        `json:"backup_id"`
	Mode     string        `json:"mode"`
	OK       bool          `json:"ok"`
	Seed     uint64        `json:"seed,omitempty"`
	Sample   float64       `json:"sample,omitempty"`
	Files    int           `json:"files_checked"`
	Rows     int64         `json:"rows_checked"`
	Damaged  []FileProblem `json:"damaged,omitempty"`
	// Collections holds row-by-row comparisons (deep: restored copy vs backup).
	Collections []CollectionCheck `json:"collections,omitempty"`
	// Source holds comparisons with the live source collection. A difference
	// there fails nothing: the source may have changed since the backup.
	Source   []SourceCheck `json:"source,omitempty"`
	Notes    []string      `json:"notes,omitempty"`
	Duration time.Duration `json:"duration_ns"`
}

// SourceCheck compares sampled rows of the backup with the live source.
type SourceCheck struct {
	Collection string    `json:"collection"`
	Sampled    int       `json:"sampled_rows"`
	Diffs      []RowDiff `json:"diffs,omitempty"`
}

// quick checks a seeded sample of files: checksum, Parquet readable,
// schema as recorded, row counts as recorded; and, when d has a Milvus
// client and the source collection still exists, compares a sample of rows
// with it by primary key.
func quick(ctx context.Context, d Deps, m *manifest.Manifest, o Options) (*Report, error) {
	start := d.Now()
	if o.Seed == 0 {
		o.Seed = rand.Uint64()
	}
	rng := rand.New(rand.NewPCG(o.Seed, 0))
	rep := &Report{BackupID: m.ID, Mode: ModeQuick, Seed: o.Seed, Sample: o.Sample}
	for i := range m.Collections {
		if err := quickCollection(ctx, d, &m.Collections[i], o.Sample, rng, rep); err != nil {
			return nil, err
		}
	}
	rep.OK = len(rep.Damaged) == 0
	rep.Duration = d.Now().Sub(start)
	return rep, nil
}

func quickCollection(ctx context.Context, d Deps, c *manifest.Collection, frac float64, rng *rand.Rand, rep *Report) error {
	schema, err := c.DecodeSchema()
	if err != nil {
		rep.Damaged = append(rep.Damaged, FileProblem{Path: "manifest", Problem: err.Error()})
		return nil
	}
	pk := milvus.PrimaryField(schema).GetName()
	var sampled []keyedRow
	for _, f := range sampleFiles(c, frac, rng) {
		rows, err := quickFile(ctx, d.Repo, schema, f, pk, frac, rng, rep)
		if err != nil {
			return err
		}
		sampled = append(sampled, rows...)
	}
	if len(sampled) > maxSampledRows {
		sampled = sampled[:maxSampledRows]
	}
	return compareSource(ctx, d.Milvus, c, sampled, rep)
}

// sampleFiles picks each file with probability frac, and at least one.
func sampleFiles(c *manifest.Collection, frac float64, rng *rand.Rand) []manifest.File {
	var all, picked []manifest.File
	for _, p := range c.Partitions {
		all = append(all, p.Files...)
	}
	for _, f := range all {
		if rng.Float64() < frac {
			picked = append(picked, f)
		}
	}
	if len(picked) == 0 && len(all) > 0 {
		picked = append(picked, all[rng.IntN(len(all))])
	}
	return picked
}

// quickFile checks one file and returns its sampled rows.
func quickFile(ctx context.Context, r *repo.Repository, schema *schemapb.CollectionSchema, f manifest.File, pk string, frac float64, rng *rand.Rand, rep *Report) ([]keyedRow, error) {
	rep.Files++
	problem, err := r.CheckFile(ctx, f, progress.Nop)
	if err != nil {
		return nil, err
	}
	if problem != "" {
		rep.Damaged = append(rep.Damaged, FileProblem{Path: f.Path, Problem: problem})
		return nil, nil
	}
	var out []keyedRow
	err = eachRecord(ctx, r, schema, f, func(rec arrow.RecordBatch) error {
		rep.Rows += rec.NumRows()
		idx := rec.Schema().FieldIndices(pk)
		for i := 0; i < int(rec.NumRows()) && len(idx) > 0; i++ {
			if rng.Float64() < frac {
				out = append(out, keyedRow{key: KeyAt(rec.Column(idx[0]), i), text: rowText(rec, i)})
			}
		}
		return nil
	})
	if err != nil {
		rep.Damaged = append(rep.Damaged, FileProblem{Path: f.Path, Problem: err.Error()})
	}
	return out, nil
}

// compareSource reads the sampled keys from the live source collection, when
// it exists and can be queried, and records differences.
func compareSource(ctx context.Context, c *milvus.Client, mc *manifest.Collection, sampled []keyedRow, rep *Report) error {
	if c == nil || len(sampled) == 0 {
		return nil
	}
	exists, err := c.HasCollection(ctx, mc.Database, mc.Name)
	if err != nil || !exists {
		rep.Notes = append(rep.Notes, fmt.Sprintf("%s: source collection not found; sampled rows not compared", mc.QualifiedName()))
		return nil
	}
	live, err := sourceRows(ctx, c, mc, sampled)
	if err != nil {
		rep.Notes = append(rep.Notes, fmt.Sprintf("%s: sampled rows not compared with the source: %v", mc.QualifiedName(), err))
		return nil
	}
	sc := SourceCheck{Collection: mc.QualifiedName(), Sampled: len(sampled)}
	for _, r := range sampled {
		lt, ok := live[fmt.Sprint(r.key)]
		switch {
		case !ok:
			sc.Diffs = append(sc.Diffs, RowDiff{Key: fmt.Sprint(r.key), Problem: "missing in source"})
		case lt != r.text:
			sc.Diffs = append(sc.Diffs, RowDiff{Key: fmt.Sprint(r.key), Problem: "different in source"})
		}
	}
	sc.Diffs = sc.Diffs[:min(len(sc.Diffs), maxDiffs)]
	rep.Source = append(rep.Source, sc)
	return nil
}

func sourceRows(ctx context.Context, c *milvus.Client, mc *manifest.Collection, sampled []keyedRow) (map[string]string, error) {
	desc, err := c.Describe(ctx, mc.Database, mc.Name)
	if err != nil {
		return nil, err
	}
	schema := desc.GetSchema()
	b, err := columnar.NewBuilder(memory.DefaultAllocator, schema)
	if err != nil {
		return nil, err
	}
	defer b.Release()
	out := map[string]string{}
	pk := milvus.PrimaryField(schema)
	for start := 0; start < len(sampled); start += 100 {
		keys := make([]any, 0, 100)
		for _, r := range sampled[start:min(start+100, len(sampled))] {
			keys = append(keys, r.key)
		}
		fields, err := c.Get(ctx, mc.Database, mc.Name, pk, keys)
		if err != nil {
			return nil, err
		}
		if err := collectRows(b, fields, pk.GetName(), out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func collectRows(b *columnar.Builder, fields []*schemapb.FieldData, pk string, out map[string]string) error {
	n := fieldRows(fields, pk)
	if n == 0 {
		return nil
	}
	if err := b.Append(fields, n); err != nil {
		return err
	}
	rec := b.NewRecord()
	defer rec.Release()
	idx := rec.Schema().FieldIndices(pk)
	for i := 0; i < int(rec.NumRows()); i++ {
		out[fmt.Sprint(KeyAt(rec.Column(idx[0]), i))] = rowText(rec, i)
	}
	return nil
}

func fieldRows(fields []*schemapb.FieldData, pk string) int {
	for _, f := range fields {
		if f.GetFieldName() == pk {
			if d := f.GetScalars().GetLongData().GetData(); d != nil {
				return len(d)
			}
			return len(f.GetScalars().GetStringData().GetData())
		}
	}
	return 0
}
