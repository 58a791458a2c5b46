// Package importer loads files into a Milvus collection: a collection
// folder written by `milvault export` (package export) in any of its
// formats (Parquet, JSON lines, CSV), or any Parquet files in Milvus's
// bulk-import layout, such as those pymilvus's BulkWriter writes (one column
// per field, vectors as lists, JSON and the dynamic field $meta as JSON
// text).
//
// Like a restore, an import checks everything it can before it writes
// anything: every file's columns against the target's fields (all problems
// at once; JSON-lines and CSV files are decoded in full for this, since
// their values are typed only then), and the target itself. It then inserts the rows with Insert
// calls, flushes and checks the server's row count. A collection that does
// not exist is created from the export's schema.json (with its partitions
// and, after the rows, its indexes; keys of an auto_id key field are kept,
// as restore does by default); plain Parquet files carry no schema, so their
// collection must exist. If an import fails, a collection it created is
// dropped again; rows it inserted into an existing collection stay (the
// error says how many).
package importer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/milvault/milvault/columnar"
	"github.com/milvault/milvault/errkind"
	"github.com/milvault/milvault/milvus"
	"github.com/milvault/milvault/progress"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/restore"
)

// batchBytes is the raw size of one Insert call.
const batchBytes = 8 << 20

// Params name the target.
type Params struct {
	Database   string // "" means default
	Collection string
	// Partition receives plain Parquet files ("" means _default); an
	// export's files go to the partition of their folder.
	Partition string
	// NoLoad leaves a created collection released.
	NoLoad bool
}

// Deps are the services an import uses.
type Deps struct {
	Milvus   *milvus.Client
	Progress progress.Progress // nil means none
}

// Result describes an import.
type Result struct {
	Database   string   `json:"database"`
	Collection string   `json:"collection"`
	Created    bool     `json:"created"`
	Partitions []string `json:"partitions"`
	Files      int      `json:"files"`
	Rows       int64    `json:"rows"`
	// KeysAssigned is set when the files held keys for an auto_id key
	// field of the existing collection: the server assigned new ones.
	KeysAssigned bool `json:"keys_assigned,omitempty"`
}

// Run imports the Parquet files of src into the collection p names.
func Run(ctx context.Context, d Deps, src repo.Store, p Params) (*Result, error) {
	if p.Collection == "" {
		return nil, errkind.New(errkind.Usage, "import needs the target collection (--collection)")
	}
	if p.Database == "" {
		p.Database = "default"
	}
	if d.Progress == nil {
		d.Progress = progress.Nop
	}
	s, err := Discover(ctx, src, p.Partition)
	if err != nil {
		return nil, err
	}
	j := &job{deps: d, src: src, p: p, s: s, res: &Result{Database: p.Database, Collection: p.Collection, Partitions: s.Order}}
	if err := j.prepare(ctx); err != nil {
		return nil, err
	}
	if err := j.run(ctx); err != nil {
		if j.res.Created {
			if derr := d.Milvus.DropCollection(context.WithoutCancel(ctx), p.Database, p.Collection); derr != nil {
				return nil, fmt.Errorf("%w (and dropping the collection it created failed: %v)", err, derr)
			}
			return nil, fmt.Errorf("%w (the collection it created was dropped)", err)
		}
		return nil, fmt.Errorf("%w (%d rows were inserted into the existing collection before)", err, j.res.Rows)
	}
	return j.res, nil
}

// job is one import under way.
type job struct {
	deps   Deps
	src    repo.Store
	p      Params
	s      *Source
	res    *Result
	schema *schemapb.CollectionSchema // the target's
	exists bool
	plans  map[string]*plan // file -> plan
}

// prepare finds or plans the target and checks every file against it.
func (j *job) prepare(ctx context.Context) error {
	c := j.deps.Milvus
	exists, err := c.HasCollection(ctx, j.p.Database, j.p.Collection)
	if err != nil {
		return err
	}
	j.exists = exists
	if exists {
		desc, err := c.Describe(ctx, j.p.Database, j.p.Collection)
		if err != nil {
			return err
		}
		j.schema = desc.GetSchema()
	} else if j.schema, err = j.newSchema(); err != nil {
		return err
	}
	return j.checkFiles(ctx)
}

// newSchema is the schema of a collection created from the export.
func (j *job) newSchema() (*schemapb.CollectionSchema, error) {
	if j.s.Schema == nil {
		return nil, errkind.New(errkind.NotFound, "collection %s.%s does not exist: plain Parquet files carry no schema, so create it first (as for Milvus bulk import), or import a folder written by milvault export",
			j.p.Database, j.p.Collection)
	}
	var sch schemapb.CollectionSchema
	if err := protojson.Unmarshal(j.s.Schema.MilvusSchema, &sch); err != nil {
		return nil, errkind.New(errkind.Usage, "schema.json: milvus_schema: %v", err)
	}
	sch.Name = j.p.Collection
	for _, f := range sch.GetFields() {
		if f.GetIsPrimaryKey() {
			f.AutoID = false // the files hold the keys; keep them
		}
	}
	return &sch, nil
}

// checkFiles opens every file's footer and plans its columns; it reports
// every problem of every file at once.
func (j *job) checkFiles(ctx context.Context) error {
	j.plans = map[string]*plan{}
	var problems []string
	for _, part := range j.s.Order {
		for _, name := range j.s.Files[part] {
			pl, probs, err := j.planFile(ctx, name)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			for _, pr := range probs {
				problems = append(problems, name+": "+pr)
			}
			j.plans[name] = pl
		}
	}
	if len(problems) > 0 {
		return errkind.New(errkind.Usage, "the files do not fit collection %s.%s, nothing was imported:\n  %s",
			j.p.Database, j.p.Collection, strings.Join(problems, "\n  "))
	}
	return nil
}

func (j *job) planFile(ctx context.Context, name string) (*plan, []string, error) {
	rs, err := j.open(ctx, name)
	if err != nil {
		return nil, nil, err
	}
	defer rs.Close()
	pl, probs := newPlan(j.schema, rs.Schema())
	if len(probs) == 0 && j.s.Ext != ".parquet" {
		// Text values are typed only when decoded: decode them all now.
		if err := drain(rs); err != nil {
			probs = append(probs, err.Error())
		}
	}
	return pl, probs, nil
}

func (j *job) open(ctx context.Context, name string) (records, error) {
	return openRecords(ctx, j.src, name, j.s.Sizes[name], j.schema, restore.BatchRows(j.schema, batchBytes))
}

// run creates what is missing, inserts every file and checks the count.
func (j *job) run(ctx context.Context) error {
	if err := j.createTarget(ctx); err != nil {
		return err
	}
	before, err := j.deps.Milvus.RowCount(ctx, j.p.Database, j.p.Collection)
	if err != nil {
		return err
	}
	for _, part := range j.s.Order {
		target := part
		if milvus.HasPartitionKey(j.schema) {
			target = "" // the server routes rows by their key
		}
		for _, name := range j.s.Files[part] {
			if err := j.insertFile(ctx, name, target); err != nil {
				return fmt.Errorf("import %s: %w", name, err)
			}
			j.res.Files++
		}
	}
	return j.finish(ctx, before)
}

// createTarget creates the collection (when missing) and partitions.
func (j *job) createTarget(ctx context.Context) error {
	c := j.deps.Milvus
	if !j.exists {
		sch := j.s.Schema
		req := milvus.CreateCollectionRequest{Database: j.p.Database, Schema: j.schema, ShardsNum: sch.ShardsNum,
			ConsistencyLevel: commonpb.ConsistencyLevel(commonpb.ConsistencyLevel_value[sch.Consistency]), Properties: sch.Properties}
		if err := c.CreateCollection(ctx, req); err != nil {
			return err
		}
		j.res.Created = true
	}
	if milvus.HasPartitionKey(j.schema) {
		return nil
	}
	have, err := c.Partitions(ctx, j.p.Database, j.p.Collection)
	if err != nil {
		return err
	}
	for _, part := range j.s.Order {
		if !slices.Contains(have, part) {
			if err := c.CreatePartition(ctx, j.p.Database, j.p.Collection, part); err != nil {
				return err
			}
		}
	}
	return nil
}

// insertFile streams one file into Insert calls.
func (j *job) insertFile(ctx context.Context, name, partition string) error {
	rs, err := j.open(ctx, name)
	if err != nil {
		return err
	}
	defer rs.Close()
	j.deps.Progress.Phase("import "+name, 0, 0)
	pl := j.plans[name]
	j.res.KeysAssigned = j.res.KeysAssigned || pl.skippedKey
	for {
		rec, err := rs.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		err = j.insert(ctx, pl, rec, partition)
		rec.Release()
		if err != nil {
			return err
		}
	}
}

func (j *job) insert(ctx context.Context, pl *plan, rec arrow.RecordBatch, partition string) error {
	out := pl.record(rec)
	defer out.Release()
	fields, err := columnar.ToFieldData(pl.insert, out)
	if err != nil {
		return err
	}
	if err := j.deps.Milvus.Insert(ctx, j.p.Database, j.p.Collection, partition, fields, int(out.NumRows())); err != nil {
		return err
	}
	j.res.Rows += out.NumRows()
	j.deps.Progress.Rows(out.NumRows())
	return nil
}

// finish flushes, checks the row count, and builds a created collection's
// indexes and loads it.
func (j *job) finish(ctx context.Context, before int64) error {
	c := j.deps.Milvus
	if _, err := c.Flush(ctx, j.p.Database, j.p.Collection); err != nil {
		return err
	}
	after, err := c.RowCount(ctx, j.p.Database, j.p.Collection)
	if err != nil {
		return err
	}
	if after-before != j.res.Rows {
		return errkind.New(errkind.Damaged, "inserted %d rows but the collection grew by %d", j.res.Rows, after-before)
	}
	if !j.res.Created {
		return nil
	}
	for _, ix := range j.s.Schema.Indexes {
		if err := c.CreateIndex(ctx, j.p.Database, j.p.Collection, ix.Field, ix.Name, ix.Params); err != nil {
			return err
		}
	}
	if j.p.NoLoad || len(j.s.Schema.Indexes) == 0 {
		return nil
	}
	return c.Load(ctx, j.p.Database, j.p.Collection, nil)
}
