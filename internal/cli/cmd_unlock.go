package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/milvault/milvault/audit"
	"github.com/milvault/milvault/repo"
)

// UnlockOptions are the flags of `milvault unlock`.
type UnlockOptions struct {
	RemoveAll bool
	Yes       bool
}

// AddFlags registers the flags.
func (o *UnlockOptions) AddFlags(cmd *cobra.Command) {
	cmd.Flags().BoolVarP(&o.Yes, "yes", "y", false, "do not ask for confirmation on a terminal (without one unlock never asks)")
	cmd.Flags().BoolVar(&o.RemoveAll, "remove-all", false, "remove every lock, also those of running processes (only when you know none runs)")
}

func newUnlockCommand(g *GlobalOptions) *cobra.Command {
	o := &UnlockOptions{}
	cmd := &cobra.Command{
		Use:   "unlock",
		Short: "Remove stale repository locks (of processes that died or stopped refreshing them)",
		Example: `  milvault unlock               # stale locks only
  milvault unlock --remove-all  # every lock`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runUnlock(cmd.Context(), g, o) },
	}
	o.AddFlags(cmd)
	return cmd
}

// unlockReport is the JSON printed by `unlock --json`.
type unlockReport struct {
	Removed   []lockEntry `json:"removed"`
	Remaining []lockEntry `json:"remaining"`
}

type lockEntry struct {
	Name string `json:"name"`
	repo.LockInfo
}

func runUnlock(ctx context.Context, g *GlobalOptions, o *UnlockOptions) error {
	r, err := g.openRepo(ctx)
	if err != nil {
		return err
	}
	if err := g.confirmUnlock(ctx, r, o); err != nil {
		return err
	}
	removed, err := r.RemoveLocks(ctx, o.RemoveAll)
	if len(removed) > 0 || err != nil {
		g.recordAudit(ctx, r, unlockAuditEntry(g, o, removed), err)
	}
	if err != nil {
		return err
	}
	remaining, err := r.Locks(ctx)
	if err != nil {
		return err
	}
	if g.JSON {
		return writeJSON(g, unlockReport{Removed: entries(removed), Remaining: entries(remaining)})
	}
	for _, l := range removed {
		g.printf("removed %s: %s\n", l.Name, l)
	}
	for _, l := range remaining {
		g.printf("kept %s (held by a running process): %s\n", l.Name, l)
	}
	if len(removed) == 0 && len(remaining) == 0 {
		g.printf("no locks\n")
	}
	return nil
}

func entries(ls []repo.LockInfo) []lockEntry {
	out := []lockEntry{}
	for _, l := range ls {
		out = append(out, lockEntry{Name: l.Name, LockInfo: l})
	}
	return out
}

// confirmUnlock lists the locks unlock will remove and, on a terminal, asks
// before removing them.
func (g *GlobalOptions) confirmUnlock(ctx context.Context, r *repo.Repository, o *UnlockOptions) error {
	locks, err := r.Locks(ctx)
	if err != nil {
		return err
	}
	n := 0
	for _, l := range locks {
		if o.RemoveAll || r.LockIsStale(l, 0) {
			if g.listing() {
				fmt.Fprintf(g.stderr, "will remove %s: %s\n", l.Name, l)
			}
			n++
		}
	}
	if n == 0 || o.Yes || !isTerminal(g.stdin) {
		return nil
	}
	return confirm(g, false, fmt.Sprintf("remove these %d locks", n), "yes")
}

func unlockAuditEntry(g *GlobalOptions, o *UnlockOptions, removed []repo.LockInfo) audit.Entry {
	names := []string{}
	for _, l := range removed {
		names = append(names, l.Name+" ("+l.Operation+", pid "+fmt.Sprint(l.PID)+" on "+l.Host+")")
	}
	return audit.Entry{Operation: audit.OpUnlock, Params: g.commonParams(map[string]any{"remove_all": o.RemoveAll, "removed": names})}
}
