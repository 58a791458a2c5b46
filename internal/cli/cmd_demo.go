package cli

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
	"github.com/spf13/cobra"

	"github.com/milvault/milvault/milvus"
	"github.com/milvault/milvault/verify"
)

// DemoOptions are the flags of the demo helpers.
type DemoOptions struct {
	Database   string
	Collection string
	Rows       int
}

// AddFlags registers the flags.
func (o *DemoOptions) AddFlags(cmd *cobra.Command) {
	f := cmd.PersistentFlags()
	f.StringVar(&o.Database, "database", "default", "database")
	f.StringVarP(&o.Collection, "collection", "c", "demo_docs", "collection")
	f.IntVar(&o.Rows, "rows", 20000, "rows to create (seed)")
}

// newDemoCommand holds the helpers scripts/demo.sh uses to make sample data
// and to prove that a restore brought every row back.
func newDemoCommand(g *GlobalOptions) *cobra.Command {
	o := &DemoOptions{}
	cmd := &cobra.Command{Use: "demo", Short: "Sample data helpers for the demo (scripts/demo.sh)", Hidden: true}
	o.AddFlags(cmd)
	cmd.AddCommand(
		&cobra.Command{Use: "seed", Short: "Create a sample collection", Args: noArgs,
			RunE: func(cmd *cobra.Command, _ []string) error { return runDemoSeed(cmd.Context(), g, o) }},
		&cobra.Command{Use: "digest", Short: "Print per-partition row counts and SHA-256 of a collection", Args: noArgs,
			RunE: func(cmd *cobra.Command, _ []string) error { return runDemoDigest(cmd.Context(), g, o) }},
		&cobra.Command{Use: "drop", Short: "Drop the collection and its aliases (simulates the data loss)", Args: noArgs,
			RunE: func(cmd *cobra.Command, _ []string) error { return runDemoDrop(cmd.Context(), g, o) }},
	)
	return cmd
}

func runDemoDigest(ctx context.Context, g *GlobalOptions, o *DemoOptions) error {
	c, err := g.connect(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	ds, err := verify.Digest(ctx, c, o.Database, o.Collection)
	if err != nil {
		return err
	}
	if g.JSON {
		return writeJSON(g, ds)
	}
	for _, d := range ds {
		g.printf("%-12s %8d rows  sha256 %s\n", d.Partition, d.Rows, d.SHA256)
	}
	return nil
}

func runDemoDrop(ctx context.Context, g *GlobalOptions, o *DemoOptions) error {
	c, err := g.connect(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	aliases, err := c.Aliases(ctx, o.Database, o.Collection)
	if err != nil {
		return err
	}
	for _, a := range aliases {
		if err := c.DropAlias(ctx, o.Database, a); err != nil {
			return err
		}
	}
	if err := c.DropCollection(ctx, o.Database, o.Collection); err != nil {
		return err
	}
	g.printf("dropped %s.%s (and aliases %v)\n", o.Database, o.Collection, aliases)
	return nil
}

var demoPartitions = []string{"_default", "news", "papers", "notes"}

func runDemoSeed(ctx context.Context, g *GlobalOptions, o *DemoOptions) error {
	c, err := g.connect(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	if exists, err := c.HasCollection(ctx, o.Database, o.Collection); err != nil || exists {
		if err == nil {
			err = conflictErrorf("collection %s.%s already exists; drop it first (milvault demo drop)", o.Database, o.Collection)
		}
		return err
	}
	if err := createDemoCollection(ctx, c, o); err != nil {
		return err
	}
	if err := insertDemoRows(ctx, c, o); err != nil {
		return err
	}
	if err := c.CreateIndex(ctx, o.Database, o.Collection, "embedding", "embedding_hnsw",
		map[string]string{"index_type": "HNSW", "metric_type": "L2", "params": `{"M":16,"efConstruction":64}`}); err != nil {
		return err
	}
	if err := c.CreateAlias(ctx, o.Database, o.Collection, o.Collection+"_live"); err != nil {
		return err
	}
	if err := c.Load(ctx, o.Database, o.Collection, nil); err != nil {
		return err
	}
	g.printf("created %s.%s: %d rows in %d partitions, HNSW index, alias %s_live, loaded\n",
		o.Database, o.Collection, o.Rows, len(demoPartitions), o.Collection)
	return nil
}

func createDemoCollection(ctx context.Context, c *milvus.Client, o *DemoOptions) error {
	schema := &schemapb.CollectionSchema{Name: o.Collection, Description: "milvault demo documents", EnableDynamicField: true,
		Fields: []*schemapb.FieldSchema{
			{Name: "id", DataType: schemapb.DataType_Int64, IsPrimaryKey: true},
			{Name: "title", DataType: schemapb.DataType_VarChar, TypeParams: kv("max_length", "128")},
			{Name: "year", DataType: schemapb.DataType_Int32},
			{Name: "meta", DataType: schemapb.DataType_JSON},
			{Name: "embedding", DataType: schemapb.DataType_FloatVector, TypeParams: kv("dim", "128")},
		}}
	if err := c.CreateDatabase(ctx, o.Database); err != nil {
		return err
	}
	if err := c.CreateCollection(ctx, milvus.CreateCollectionRequest{Database: o.Database, Schema: schema, ShardsNum: 1}); err != nil {
		return err
	}
	for _, p := range demoPartitions[1:] {
		if err := c.CreatePartition(ctx, o.Database, o.Collection, p); err != nil {
			return err
		}
	}
	return nil
}

func kv(k, v string) []*commonpb.KeyValuePair { return []*commonpb.KeyValuePair{{Key: k, Value: v}} }

// insertDemoRows inserts deterministic rows, a batch per partition at a time.
func insertDemoRows(ctx context.Context, c *milvus.Client, o *DemoOptions) error {
	rng := rand.New(rand.NewPCG(42, 7))
	const batch = 2000
	for start := 0; start < o.Rows; start += batch {
		n := min(batch, o.Rows-start)
		part := demoPartitions[(start/batch)%len(demoPartitions)]
		if err := c.Insert(ctx, o.Database, o.Collection, part, demoBatch(rng, start, n), n); err != nil {
			return err
		}
	}
	_, err := c.Flush(ctx, o.Database, o.Collection)
	return err
}

func demoBatch(rng *rand.Rand, start, n int) []*schemapb.FieldData {
	ids := make([]int64, n)
	titles := make([]string, n)
	years := make([]int32, n)
	metas := make([][]byte, n)
	dyn := make([][]byte, n)
	vecs := make([]float32, 0, n*128)
	for i := range n {
		id := int64(start + i)
		ids[i], years[i] = id, int32(1990+id%35)
		titles[i] = fmt.Sprintf("Dokument %d – ünïcode ✓", id)
		metas[i] = fmt.Appendf(nil, `{"source":"demo","tags":["t%d","t%d"],"score":%d}`, id%7, id%11, id%100)
		dyn[i] = fmt.Appendf(nil, `{"views":%d,"nested":{"a":[1,2,{"b":%d}]}}`, id*3, id%5)
		for range 128 {
			vecs = append(vecs, rng.Float32())
		}
	}
	return []*schemapb.FieldData{
		milvus.Int64Column("id", ids),
		milvus.VarCharColumn("title", titles),
		scalarField("year", schemapb.DataType_Int32, &schemapb.ScalarField{Data: &schemapb.ScalarField_IntData{IntData: &schemapb.IntArray{Data: years}}}),
		scalarField("meta", schemapb.DataType_JSON, &schemapb.ScalarField{Data: &schemapb.ScalarField_JsonData{JsonData: &schemapb.JSONArray{Data: metas}}}),
		{FieldName: "$meta", Type: schemapb.DataType_JSON, IsDynamic: true, Field: &schemapb.FieldData_Scalars{Scalars: &schemapb.ScalarField{Data: &schemapb.ScalarField_JsonData{JsonData: &schemapb.JSONArray{Data: dyn}}}}},
		milvus.FloatVectorColumn("embedding", 128, vecs),
	}
}

func scalarField(name string, t schemapb.DataType, s *schemapb.ScalarField) *schemapb.FieldData {
	return &schemapb.FieldData{FieldName: name, Type: t, Field: &schemapb.FieldData_Scalars{Scalars: s}}
}
