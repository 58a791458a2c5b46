package cli

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/milvault/milvault/importer"
)

// ImportOptions are the flags of `milvault import`.
type ImportOptions struct {
	From       string
	Database   string
	Collection string
	Partition  string
	NoLoad     bool
}

// AddFlags registers the flags.
func (o *ImportOptions) AddFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.From, "from", "", "folder or bucket URL: a collection folder of milvault export (Parquet, JSON lines or CSV), or bulk-import Parquet files (pymilvus BulkWriter)")
	f.StringVarP(&o.Collection, "collection", "c", "", "target collection (created from the export's schema.json when missing)")
	f.StringVar(&o.Database, "database", "default", "database of the target collection")
	f.StringVarP(&o.Partition, "partition", "p", "", "partition for plain Parquet files (default _default; an export's files go to their folder's partition)")
	f.BoolVar(&o.NoLoad, "no-load", false, "leave a collection the import creates released")
}

func newImportCommand(g *GlobalOptions) *cobra.Command {
	o := &ImportOptions{}
	cmd := &cobra.Command{
		Use:   "import --from <folder|URL> --collection <name>",
		Short: "Load a milvault export or Milvus bulk-import Parquet files into a collection",
		Example: `  milvault import --from ./export/default/docs --collection docs_copy
  milvault import --from ./bulkwriter-output --collection docs --partition 2024_01`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runImport(cmd.Context(), g, o) },
	}
	o.AddFlags(cmd)
	return cmd
}

func runImport(ctx context.Context, g *GlobalOptions, o *ImportOptions) error {
	if o.From == "" || o.Collection == "" {
		return usageErrorf("import needs --from <folder or URL> and --collection <name>")
	}
	src, err := g.openStoreAt(o.From)
	if err != nil {
		return err
	}
	c, err := g.connect(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	prog := g.progress()
	res, err := importer.Run(ctx, importer.Deps{Milvus: c, Progress: prog},
		src, importer.Params{Database: o.Database, Collection: o.Collection, Partition: o.Partition, NoLoad: o.NoLoad})
	prog.Done()
	if err != nil {
		return err
	}
	if g.JSON {
		return writeJSON(g, res)
	}
	verb := "into"
	if res.Created {
		verb = "into the new collection"
	}
	g.printf("imported %d rows from %d files %s %s.%s (partitions %v)\n", res.Rows, res.Files, verb, res.Database, res.Collection, res.Partitions)
	if res.KeysAssigned {
		g.printf("the key field is auto_id: the server assigned new keys\n")
	}
	return nil
}
