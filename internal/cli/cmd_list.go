package cli

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/milvault/milvault/progress"
	"github.com/milvault/milvault/repo"
)

// ListOptions are the flags of `milvault list`.
type ListOptions struct {
	Collection string
}

// AddFlags registers the flags.
func (o *ListOptions) AddFlags(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&o.Collection, "collection", "c", "", "only backups that contain this collection (name or database.name)")
}

func newListCommand(g *GlobalOptions) *cobra.Command {
	o := &ListOptions{}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the committed backups in the repository, newest first",
		Args:  noArgs,
		RunE:  func(cmd *cobra.Command, args []string) error { return runList(cmd.Context(), g, o) },
	}
	o.AddFlags(cmd)
	return cmd
}

func runList(ctx context.Context, g *GlobalOptions, o *ListOptions) error {
	r, err := g.openRepo(ctx)
	if err != nil {
		return err
	}
	all, problems, err := r.List(ctx)
	if err != nil {
		return err
	}
	for _, p := range problems {
		g.warnf("skipped an unreadable manifest: %v", p)
	}
	proofs, err := r.Proofs(ctx)
	if err != nil {
		return err
	}
	entries := []repo.BackupSummary{}
	for _, m := range all {
		if o.Collection == "" || m.Contains(o.Collection) {
			entries = append(entries, repo.Summarize(m, proofs[m.ID]))
		}
	}
	if o.Collection != "" && !r.Unlocked() {
		return r.NeedKey("list --collection (collection names are encrypted)")
	}
	if g.JSON {
		return writeJSON(g, entries)
	}
	if !r.Unlocked() && len(entries) > 0 {
		g.warnf("the repository is encrypted and no key was given: names, collections, rows and versions are hidden (give --identity-file, --password-file or MILVAULT_PASSWORD to see them)")
	}
	return printListTable(g, entries)
}

func printListTable(g *GlobalOptions, entries []repo.BackupSummary) error {
	if len(entries) == 0 {
		g.printf("no backups in %s\n", g.repoDisplay())
		return nil
	}
	tw := tabwriter.NewWriter(g.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tCREATED\tCOLLECTIONS\tROWS\tSIZE\tLAST PROVEN")
	for _, e := range entries {
		cols, rows := abbreviate(e.Collections, 3), progress.HumanCount(e.Rows)
		if e.Sealed {
			cols, rows = "(encrypted)", "?"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.ID, orDash(e.Name), e.CreatedAt.Local().Format("2006-01-02 15:04:05"),
			cols, rows, progress.HumanBytes(e.Bytes), proven(e.LastProven))
	}
	return tw.Flush()
}

func proven(p *repo.Proof) string {
	if p == nil {
		return "never"
	}
	return p.At.Local().Format("2006-01-02 15:04") + " " + p.Kind
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func abbreviate(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, ",")
	}
	return strings.Join(items[:n], ",") + fmt.Sprintf(",+%d", len(items)-n)
}
