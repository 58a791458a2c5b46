package cli

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/spf13/cobra"

	"github.com/milvault/milvault/capture"
)

// LogOptions are the flags of `milvault log`.
type LogOptions struct {
	Collection string
	Segments   bool
}

// AddFlags registers the flags.
func (o *LogOptions) AddFlags(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&o.Collection, "collection", "c", "", "only this collection's writes and schema changes (name in the default database, or database.name)")
	cmd.Flags().BoolVar(&o.Segments, "segments", false, "list every segment file")
}

func newLogCommand(g *GlobalOptions) *cobra.Command {
	o := &LogOptions{}
	cmd := &cobra.Command{
		Use:   "log",
		Short: "Show what milvault guard --capture recorded: collections, time ranges, writes, schema changes, sizes and gaps",
		Example: `  milvault log
  milvault log -c docs --segments
  milvault log --json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runLog(cmd.Context(), g, o) },
	}
	o.AddFlags(cmd)
	return cmd
}

func runLog(ctx context.Context, g *GlobalOptions, o *LogOptions) error {
	r, err := g.openRepo(ctx)
	if err != nil {
		return err
	}
	var q capture.Query
	if o.Collection != "" {
		q.Database, q.Collection = "default", o.Collection
		if db, coll, ok := strings.Cut(o.Collection, "."); ok {
			q.Database, q.Collection = db, coll
		}
	}
	sum, err := capture.Summarize(ctx, r, q)
	if err != nil {
		return err
	}
	if g.JSON {
		return writeJSON(g, sum)
	}
	printLog(g, sum, o.Segments)
	return nil
}

func printLog(g *GlobalOptions, sum *capture.Summary, segments bool) {
	if len(sum.Segments) == 0 {
		g.printf("the capture log is empty (run milvault guard --capture fail-closed or fail-open)\n")
		return
	}
	tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "COLLECTION\tFROM\tTO\tWRITES\tREQUEST BYTES")
	for _, c := range sum.Collections {
		fmt.Fprintf(tw, "%s.%s\t%s\t%s\t%s\t%s\n", c.Database, c.Collection, wall(c.FirstTS), wall(c.LastTS), writeCounts(c.Writes), humanize.IBytes(uint64(c.Bytes)))
	}
	tw.Flush()
	g.printf("%d segments, %s stored, %d writes\n", len(sum.Segments), humanize.IBytes(uint64(sum.Bytes)), sum.Records)
	if segments {
		tw = tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SEGMENT\tFIRST\tLAST\tWRITES\tSIZE")
		for _, s := range sum.Segments {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", s.Name, wall(s.FirstTS), wall(s.LastTS), s.Records, humanize.IBytes(uint64(s.Size)))
		}
		tw.Flush()
	}
	printChanges(g, sum.Changes)
	for _, gap := range sum.Gaps {
		switch {
		case gap.From == 0 && gap.Reason == capture.ReasonPruned:
			g.printf("capture log pruned before %s (no retained backup needs older writes)\n", wall(gap.To))
			continue
		case gap.From == 0 && gap.Reason == capture.ReasonBeforeCapture:
			g.printf("capture began at %s\n", wall(gap.To))
			continue
		}
		g.printf("gap: %s\n", describeCaptureGap(gap))
	}
}

// printChanges lists the captured schema and namespace changes.
func printChanges(g *GlobalOptions, changes []capture.Change) {
	if len(changes) == 0 {
		return
	}
	tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tCHANGE\tCOLLECTION\tDETAIL")
	for _, c := range changes {
		fmt.Fprintf(tw, "%s\t%s\t%s.%s\t%s\n", wall(c.TS), c.Method, c.Database, c.Collection, c.Detail)
	}
	tw.Flush()
}

func wall(ts uint64) string { return capture.WallTime(ts).Format(time.RFC3339Nano) }

func writeCounts(m map[string]int64) string {
	var parts []string
	for k, n := range m {
		parts = append(parts, fmt.Sprintf("%d %s", n, strings.ToLower(k)))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

// describeCaptureGap says which writes may be missing, and why.
func describeCaptureGap(gap capture.Gap) string {
	from, to := gap.Bounds()
	s := fmt.Sprintf("writes after %s up to %s may be missing: %s", from, to, gap.Reason)
	if gap.Records > 0 {
		s += fmt.Sprintf(" (%d acknowledged writes lost)", gap.Records)
	}
	return s
}
