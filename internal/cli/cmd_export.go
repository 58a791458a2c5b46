package cli

import (
	"context"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/milvault/milvault/export"
)

// ExportOptions are the flags of `milvault export`.
type ExportOptions struct {
	Collections []string
	Format      string
	To          string
	LockWait    time.Duration
}

// AddFlags registers the flags.
func (o *ExportOptions) AddFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringArrayVarP(&o.Collections, "collection", "c", nil, "collection to export (repeatable; default: every collection of the backup)")
	f.StringVar(&o.Format, "format", "parquet", "file format: "+strings.Join(export.Formats, ", "))
	f.StringVar(&o.To, "to", "", "destination folder or bucket URL (s3://, gs://, azblob://)")
	addLockWaitFlag(f, &o.LockWait)
}

func newExportCommand(g *GlobalOptions) *cobra.Command {
	o := &ExportOptions{}
	cmd := &cobra.Command{
		Use:   "export <backup> --format parquet|jsonl|csv --to <folder|URL>",
		Short: "Write a backup's rows as plain Parquet, JSON-lines or CSV files for other tools",
		Example: `  milvault export nightly --format parquet --to ./export      # pandas, DuckDB, Spark
  milvault export nightly -c docs --format jsonl --to ./export  # jq, json
  milvault export nightly --format csv --to s3://exports/milvus`,
		Args: exactArgs(1, "the backup id or name (see milvault list)"),
		RunE: func(cmd *cobra.Command, args []string) error { return runExport(cmd.Context(), g, o, args[0]) },
	}
	o.AddFlags(cmd)
	return cmd
}

func runExport(ctx context.Context, g *GlobalOptions, o *ExportOptions, ref string) error {
	if o.To == "" {
		return usageErrorf("export needs --to <folder or URL>")
	}
	r, m, err := g.findBackup(ctx, ref)
	if err != nil {
		return err
	}
	dst, err := g.openStoreAt(o.To)
	if err != nil {
		return err
	}
	prog := g.progress()
	res, err := export.Run(ctx, r, m, dst, export.Options{Format: o.Format, Collections: o.Collections,
		Progress: prog, LockWait: o.LockWait})
	prog.Done()
	if err != nil {
		return err
	}
	if g.JSON {
		return writeJSON(g, res)
	}
	for _, c := range res.Collections {
		g.printf("exported %s.%s: %d rows in %d %s files under %s\n", c.Database, c.Collection, c.Rows, c.Files, o.Format, c.Folder)
	}
	g.printf("wrote %d rows in %d files to %s\n", res.Rows, res.Files, dst.Location())
	return nil
}
