package cli

import (
	"context"
	"time"

	"github.com/spf13/cobra"
)

// DeleteOptions are the flags of `milvault delete`.
type DeleteOptions struct {
	Yes      bool
	LockWait time.Duration
}

// AddFlags registers the flags.
func (o *DeleteOptions) AddFlags(cmd *cobra.Command) {
	cmd.Flags().BoolVarP(&o.Yes, "yes", "y", false, "do not ask for confirmation")
	addLockWaitFlag(cmd.Flags(), &o.LockWait)
}

func newDeleteCommand(g *GlobalOptions) *cobra.Command {
	o := &DeleteOptions{}
	cmd := &cobra.Command{
		Use:   "delete <backup>",
		Short: "Delete a backup (by id or name): its manifest first, then its files",
		Args:  exactArgs(1, "the backup id or name (see milvault list)"),
		RunE:  func(cmd *cobra.Command, args []string) error { return runDelete(cmd.Context(), g, o, args[0]) },
	}
	o.AddFlags(cmd)
	return cmd
}

func runDelete(ctx context.Context, g *GlobalOptions, o *DeleteOptions, ref string) error {
	r, m, err := g.findBackup(ctx, ref)
	if err != nil {
		return err
	}
	if err := confirm(g, o.Yes, "delete backup "+m.ID+nameSuffix(m.Name), m.ID); err != nil {
		return err
	}
	l, ctx, unlock, err := g.lockRepo(ctx, r, "delete", true, o.LockWait)
	if err != nil {
		return err
	}
	defer unlock()
	if err := r.Delete(ctx, l, m.ID); err != nil {
		return l.Stopped("delete", err)
	}
	if g.JSON {
		return writeJSON(g, map[string]string{"deleted": m.ID, "name": m.Name})
	}
	g.printf("deleted backup %s%s\n", m.ID, nameSuffix(m.Name))
	return nil
}
