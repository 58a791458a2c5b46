package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/milvault/milvault/audit"
	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/progress"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/retention"
)

// DeleteOptions are the flags of `milvault delete`.
type DeleteOptions struct {
	Yes      bool
	Force    bool
	LockWait time.Duration
}

// AddFlags registers the flags.
func (o *DeleteOptions) AddFlags(cmd *cobra.Command) {
	cmd.Flags().BoolVarP(&o.Yes, "yes", "y", false, "do not ask for confirmation")
	cmd.Flags().BoolVar(&o.Force, "force", false, "delete even the last backup of a collection")
	addLockWaitFlag(cmd.Flags(), &o.LockWait)
}

func newDeleteCommand(g *GlobalOptions) *cobra.Command {
	o := &DeleteOptions{}
	cmd := &cobra.Command{
		Use:   "delete <backup>",
		Short: "Delete a backup (by id or name): its manifest first, then its files",
		Long: `Delete a backup (by id or name): its manifest first, then its files.
It lists what it will remove before asking for confirmation, refuses to remove
the last backup of a collection without --force, and refuses a backup that the
repository's object lock still protects (saying when it can be deleted).`,
		Args: exactArgs(1, "the backup id or name (see milvault list)"),
		RunE: func(cmd *cobra.Command, args []string) error { return runDelete(cmd.Context(), g, o, args[0]) },
	}
	o.AddFlags(cmd)
	return cmd
}

func runDelete(ctx context.Context, g *GlobalOptions, o *DeleteOptions, ref string) error {
	r, m, err := g.findBackup(ctx, ref)
	if err != nil {
		return err
	}
	if err := checkDeletable(ctx, r, m, o.Force); err != nil {
		return err
	}
	if err := g.listRemovals(ctx, r, []*manifest.Manifest{m}); err != nil {
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
	err = r.Delete(ctx, l, m.ID)
	g.recordAudit(ctx, r, deleteAuditEntry(g, m, o.Force), err)
	if err != nil {
		return l.Stopped("delete", err)
	}
	if g.JSON {
		return writeJSON(g, map[string]string{"deleted": m.ID, "name": m.Name})
	}
	g.printf("deleted backup %s%s\n", m.ID, nameSuffix(m.Name))
	return nil
}

// checkDeletable refuses, before anything is asked or removed, the last
// backup of a collection (unless force) and a backup under object lock.
func checkDeletable(ctx context.Context, r *repo.Repository, m *manifest.Manifest, force bool) error {
	if !force {
		all, _, err := r.List(ctx)
		if err != nil {
			return err
		}
		if last := retention.LastCopies(all, m); len(last) > 0 {
			return conflictErrorf("backup %s%s is the last backup of %s: deleting it leaves no backup of %s; pass --force to delete it anyway",
				m.ID, nameSuffix(m.Name), strings.Join(last, ", "), plural(len(last), "this collection", "these collections"))
		}
	}
	return r.CheckDeletable(ctx, m.ID)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// listRemovals prints on stderr exactly which files deleting the backups ms
// removes, before the confirmation.
func (g *GlobalOptions) listRemovals(ctx context.Context, r *repo.Repository, ms []*manifest.Manifest) error {
	if !g.listing() || len(ms) == 0 {
		return nil
	}
	for _, m := range ms {
		files, err := r.BackupFiles(ctx, m.ID)
		if err != nil {
			return err
		}
		fmt.Fprintf(g.stderr, "will remove backup %s%s, created %s, of %s:\n", m.ID, nameSuffix(m.Name),
			m.CreatedAt.Local().Format("2006-01-02 15:04"), strings.Join(audit.Collections(m), ", "))
		for _, line := range fileGroups(files) {
			fmt.Fprintf(g.stderr, "  %s\n", line)
		}
	}
	return nil
}

// fileGroups summarizes files by folder: the manifest by name, then each
// folder with its number of files and bytes.
func fileGroups(files []repo.FileInfo) []string {
	type group struct {
		n     int
		bytes int64
	}
	var order []string
	groups := map[string]*group{}
	for _, f := range files {
		key := f.Name
		if i := strings.LastIndex(f.Name, "/"); i >= 0 && !strings.HasPrefix(f.Name, "manifests/") {
			key = f.Name[:i+1]
		}
		if groups[key] == nil {
			groups[key] = &group{}
			order = append(order, key)
		}
		groups[key].n++
		groups[key].bytes += f.Size
	}
	var out []string
	for _, k := range order {
		gr := groups[k]
		out = append(out, fmt.Sprintf("%s (%d %s, %s)", k, gr.n, plural(gr.n, "file", "files"), progress.HumanBytes(gr.bytes)))
	}
	return out
}

// listing reports whether destructive commands list what they remove: not
// with --quiet, nor with --json when no one is asked (stderr then carries
// only what a program reads).
func (g *GlobalOptions) listing() bool {
	return !g.Quiet && (!g.JSON || isTerminal(g.stdin))
}
