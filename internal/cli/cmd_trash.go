package cli

import (
	"context"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/milvault/milvault/guard"
)

// TrashOptions are the flags of `milvault trash`.
type TrashOptions struct {
	Database  string
	As        string
	OlderThan string
	Yes       bool
}

func newTrashCommand(g *GlobalOptions) *cobra.Command {
	o := &TrashOptions{}
	cmd := &cobra.Command{
		Use:   "trash",
		Short: "List, restore or purge the collections milvault guard moved into the trash",
		Example: `  milvault trash list
  milvault trash restore products          # its original name, or its trash name
  milvault trash purge --older-than 168h`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runTrashList(cmd.Context(), g) },
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "List the collections in the trash",
		Args:  noArgs,
		RunE:  func(cmd *cobra.Command, args []string) error { return runTrashList(cmd.Context(), g) },
	})
	restore := &cobra.Command{
		Use:   "restore NAME",
		Short: "Put a collection back under its name (or --as NAME), with its aliases, loaded if it was",
		Args:  cobra.ExactArgs(1),
		RunE:  func(cmd *cobra.Command, args []string) error { return runTrashRestore(cmd.Context(), g, o, args[0]) },
	}
	restore.Flags().StringVar(&o.Database, "database", "", "database of NAME when several hold one of that name")
	restore.Flags().StringVar(&o.As, "as", "", "restore under this name instead of the original one")
	purge := &cobra.Command{
		Use:   "purge",
		Short: "Drop trash collections for real (all, or those dropped more than --older-than ago)",
		Args:  noArgs,
		RunE:  func(cmd *cobra.Command, args []string) error { return runTrashPurge(cmd.Context(), g, o) },
	}
	purge.Flags().StringVar(&o.OlderThan, "older-than", "", "only collections dropped longer ago than this: an age (72h) or a time (RFC 3339)")
	purge.Flags().BoolVar(&o.Yes, "yes", false, "purge without asking (needed when not on a terminal)")
	cmd.AddCommand(restore, purge)
	return cmd
}

// openTrash opens the repository and Milvus for the trash commands.
func openTrash(ctx context.Context, g *GlobalOptions) (*guard.Trash, func(), error) {
	r, err := g.openRepo(ctx)
	if err != nil {
		return nil, nil, err
	}
	c, err := g.connect(ctx)
	if err != nil {
		return nil, nil, err
	}
	return &guard.Trash{Repo: r, Milvus: c}, func() { c.Close() }, nil
}

func runTrashList(ctx context.Context, g *GlobalOptions) error {
	r, err := g.openRepo(ctx)
	if err != nil {
		return err
	}
	items, err := (&guard.Trash{Repo: r}).List(ctx)
	if err != nil {
		return err
	}
	if g.JSON {
		return writeJSON(g, items)
	}
	for _, it := range items {
		line := it.DroppedAt.Format(time.RFC3339) + "  " + it.Database + "." + it.Collection + "  as " + it.Name
		if len(it.Aliases) > 0 {
			line += "  aliases " + strings.Join(it.Aliases, ",")
		}
		if it.Principal != "" {
			line += "  by " + it.Principal
		}
		g.printf("%s\n", line)
	}
	if len(items) == 0 {
		g.printf("the trash is empty\n")
	}
	return nil
}

func runTrashRestore(ctx context.Context, g *GlobalOptions, o *TrashOptions, name string) error {
	t, done, err := openTrash(ctx, g)
	if err != nil {
		return err
	}
	defer done()
	it, err := t.Find(ctx, o.Database, name)
	if err != nil {
		return err
	}
	if err := t.Restore(ctx, it, o.As); err != nil {
		return err
	}
	g.printf("restored %s.%s from %s\n", it.Database, firstSet(o.As, it.Collection), it.Name)
	return nil
}

func runTrashPurge(ctx context.Context, g *GlobalOptions, o *TrashOptions) error {
	cutoff, err := parseSince(o.OlderThan, time.Now())
	if err != nil {
		return usageErrorf("--older-than %q: give an age (72h) or a time (2026-11-30T14:00:00Z)", o.OlderThan)
	}
	if err := confirm(g, o.Yes, "drop trash collections for good", "purge"); err != nil {
		return err
	}
	t, done, err := openTrash(ctx, g)
	if err != nil {
		return err
	}
	defer done()
	purged, err := t.Purge(ctx, cutoff)
	for _, it := range purged {
		g.printf("purged %s.%s (%s)\n", it.Database, it.Name, it.Collection)
	}
	if len(purged) == 0 && err == nil {
		g.printf("nothing to purge\n")
	}
	return err
}
