package cli

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/progress"
)

// ShowOptions are the flags of `milvault show`.
type ShowOptions struct {
	Files bool
}

// AddFlags registers the flags.
func (o *ShowOptions) AddFlags(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&o.Files, "files", false, "list every data file with its size, rows and checksum")
}

func newShowCommand(g *GlobalOptions) *cobra.Command {
	o := &ShowOptions{}
	cmd := &cobra.Command{
		Use:   "show <backup>",
		Short: "Show a backup's contents (by id or name); --json prints its manifest",
		Args:  exactArgs(1, "the backup id or name (see milvault list)"),
		RunE:  func(cmd *cobra.Command, args []string) error { return runShow(cmd.Context(), g, o, args[0]) },
	}
	o.AddFlags(cmd)
	return cmd
}

// exactArgs returns a usage error naming the missing argument.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usageErrorf("%s needs %s", cmd.CommandPath(), what)
		}
		return nil
	}
}

func runShow(ctx context.Context, g *GlobalOptions, o *ShowOptions, ref string) error {
	r, m, err := g.findBackup(ctx, ref)
	if err != nil {
		return err
	}
	if m.Sealed {
		return r.NeedKey("show")
	}
	if g.JSON {
		return writeJSON(g, m)
	}
	printManifest(g, m, o.Files)
	return nil
}

func printManifest(g *GlobalOptions, m *manifest.Manifest, files bool) {
	g.printf("backup      %s%s\n", m.ID, nameSuffix(m.Name))
	g.printf("created     %s (completed %s)\n", m.CreatedAt.Local().Format("2006-01-02 15:04:05 MST"), m.CompletedAt.Local().Format("15:04:05"))
	g.printf("milvus      %s at %s\n", m.Milvus.Version, m.Milvus.Address)
	g.printf("snapshot    ts %d (%s), pinned: %v\n", m.Snapshot.Timestamp, m.Snapshot.Time.Local().Format("2006-01-02 15:04:05"), m.Snapshot.Pinned)
	g.printf("data        %s rows, %s in %d files (%s level %d, %s)\n", progress.HumanCount(m.TotalRows()),
		progress.HumanBytes(m.TotalBytes()), len(m.Files()), m.Options.Compression, m.Options.CompressionLevel, m.Options.Checksum)
	for _, c := range m.Collections {
		printCollection(g, &c, files)
	}
	if m.RBAC != nil {
		printRBAC(g, m.RBAC)
	}
}

func printCollection(g *GlobalOptions, c *manifest.Collection, files bool) {
	g.printf("\ncollection  %s: %s rows, %d shards, consistency %s, load state %s\n", c.QualifiedName(),
		progress.HumanCount(c.Rows), c.ShardsNum, c.ConsistencyLevel, c.LoadState)
	if len(c.Aliases) > 0 {
		g.printf("  aliases   %s\n", strings.Join(c.Aliases, ", "))
	}
	for _, idx := range c.Indexes {
		g.printf("  index     %s on %s: %s\n", idx.Name, idx.Field, formatParams(idx.Params))
	}
	tw := tabwriter.NewWriter(g.stdout, 0, 0, 2, ' ', 0)
	for _, p := range c.Partitions {
		fmt.Fprintf(tw, "  partition\t%s\t%s rows\t%d files\n", p.Name, progress.HumanCount(p.Rows), len(p.Files))
		if files {
			for _, f := range p.Files {
				fmt.Fprintf(tw, "    file\t%s\t%s\t%s rows\t%s\n", f.Path, progress.HumanBytes(f.Size), progress.HumanCount(f.Rows), f.Checksum)
			}
		}
	}
	tw.Flush()
}

func formatParams(p map[string]string) string {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, k+"="+p[k])
	}
	return strings.Join(parts, " ")
}
