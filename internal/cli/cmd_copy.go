package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/milvault/milvault/audit"
	"github.com/milvault/milvault/errkind"
	"github.com/milvault/milvault/offsite"
	"github.com/milvault/milvault/progress"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/blob"
)

// CopyOptions are the flags of `milvault copy`.
type CopyOptions struct {
	To         string
	LockWait   time.Duration
	NoReadBack bool
	Init       bool
}

// AddFlags registers the flags.
func (o *CopyOptions) AddFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.To, "to", "", "destination repository: a folder or URL (see --init)")
	f.BoolVar(&o.Init, "init", false, "create the destination repository when --to holds none")
	addLockWaitFlag(f, &o.LockWait)
	f.BoolVar(&o.NoReadBack, "no-read-back", false, "trust the destination's atomic writes and sizes instead of re-reading every copied file")
}

func newCopyCommand(g *GlobalOptions) *cobra.Command {
	o := &CopyOptions{}
	cmd := &cobra.Command{
		Use:   "copy <backup> --to <repository>",
		Short: "Copy a backup to another repository, verified; a rerun resumes an interrupted copy",
		Example: `  milvault copy nightly --to /mnt/offsite/milvault
  milvault copy 20260101T000000Z-0946d0 --to file:///backups/second`,
		Args: exactArgs(1, "the backup id or name (see milvault list)"),
		RunE: func(cmd *cobra.Command, args []string) error { return runCopy(cmd.Context(), g, o, args[0]) },
	}
	o.AddFlags(cmd)
	return cmd
}

func runCopy(ctx context.Context, g *GlobalOptions, o *CopyOptions, ref string) error {
	if o.To == "" {
		return usageErrorf("copy needs --to <repository>")
	}
	src, m, err := g.findBackup(ctx, ref)
	if err != nil {
		return err
	}
	dst, err := g.openDestination(ctx, o.To)
	switch {
	case o.Init && errkind.Of(err) == errkind.NotRepository:
		dst, err = g.initLike(ctx, o.To, src)
	case errkind.Of(err) == errkind.NotRepository:
		return fmt.Errorf("copy destination --to: %w (copy --init creates it)", err)
	}
	if err != nil {
		return err
	}
	l, lctx, unlock, err := g.lockRepo(ctx, dst, "copy", true, o.LockWait)
	if err != nil {
		return err
	}
	defer unlock()
	prog := g.progress()
	res, err := offsite.Copy(lctx, src, dst, m, offsite.Options{Progress: prog, SkipReadBack: o.NoReadBack,
		LockWait: o.LockWait, DstLock: l})
	prog.Done()
	g.recordAudit(lctx, dst, audit.Entry{Operation: audit.OpCopy, BackupIDs: []string{m.ID}, Collections: audit.Collections(m),
		Params: map[string]any{"from": blob.RedactURL(g.Repo), "to": blob.RedactURL(o.To), "backup": m.ID}}, err)
	if err != nil {
		return err
	}
	if g.JSON {
		return writeJSON(g, struct {
			*offsite.Result
			Name        string `json:"name,omitempty"`
			Destination string `json:"destination"`
		}{res, m.Name, dst.Location()})
	}
	defer printCaptureCopy(g, res.Capture)
	if res.AlreadyCommitted {
		g.printf("backup %s%s is already in %s: nothing to copy\n", m.ID, nameSuffix(m.Name), dst.Location())
		return nil
	}
	g.printf("copied backup %s%s to %s: %d files (%s) copied, %d already there and verified, in %s\n",
		m.ID, nameSuffix(m.Name), dst.Location(), res.Copied, progress.HumanBytes(res.Bytes), res.Present,
		progress.HumanDuration(res.Duration))
	return nil
}

// openDestination opens the copy destination at loc without unlocking it:
// a copy moves stored bytes as they are and needs no key there.
func (g *GlobalOptions) openDestination(ctx context.Context, loc string) (*repo.Repository, error) {
	s, err := g.openStoreAt(loc)
	if err != nil {
		return nil, err
	}
	r, err := repo.Open(ctx, s)
	return r, explainNoRepo(loc, err)
}

// initLike creates the copy destination at loc with src's encryption (the
// same repository key and key files), so that copied ciphertext reads there.
func (g *GlobalOptions) initLike(ctx context.Context, loc string, src *repo.Repository) (*repo.Repository, error) {
	s, err := g.openStoreAt(loc)
	if err != nil {
		return nil, err
	}
	r, err := repo.InitLike(ctx, s, src)
	return r, explainNoRepo(loc, err)
}

// printCaptureCopy reports the capture log files a copy carried.
func printCaptureCopy(g *GlobalOptions, c offsite.CaptureCopy) {
	if c.Copied > 0 {
		g.printf("capture log: %d new files (%s) copied, %d already there\n", c.Copied, progress.HumanBytes(c.Bytes), c.Present)
	}
}
