package cli

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/milvault/milvault/audit"
	"github.com/milvault/milvault/backup"
	"github.com/milvault/milvault/native"
)

// ConvertOptions are the flags of `milvault convert`.
type ConvertOptions struct {
	Name     string
	LockWait time.Duration
}

// AddFlags registers the flags.
func (o *ConvertOptions) AddFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.Name, "name", "", "unique name for the logical backup it writes")
	addLockWaitFlag(f, &o.LockWait)
}

func newConvertCommand(g *GlobalOptions) *cobra.Command {
	o := &ConvertOptions{}
	cmd := &cobra.Command{
		Use:   "convert <native backup>",
		Short: "Write a logical (Parquet) copy of a native backup, offline, by decoding its segment files",
		Example: `  milvault convert nightly-native --name nightly-logical
  milvault restore nightly-logical --milvus lite-host:19530`,
		Args: exactArgs(1, "the native backup's id or name (see milvault list)"),
		RunE: func(cmd *cobra.Command, args []string) error { return runConvert(cmd.Context(), g, o, args[0]) },
	}
	o.AddFlags(cmd)
	return cmd
}

func runConvert(ctx context.Context, g *GlobalOptions, o *ConvertOptions, ref string) error {
	r, m, err := g.findBackup(ctx, ref)
	if err != nil {
		return err
	}
	if !m.IsNative() {
		return usageErrorf("backup %s is a logical backup already", m.ID)
	}
	l, ctx, unlock, err := g.lockRepo(ctx, r, "convert", false, o.LockWait)
	if err != nil {
		return err
	}
	defer unlock()
	prog := g.progress()
	res, err := native.Convert(ctx, native.ConvertDeps{Repo: r, Progress: prog, ToolVersion: BuildVersion().Version, Lock: l},
		m, backup.Params{Name: o.Name})
	prog.Done()
	e := audit.Entry{Operation: audit.OpBackup, BackupIDs: []string{m.ID}, Collections: audit.Collections(m),
		Params: g.commonParams(map[string]any{"convert": m.ID, "name": o.Name})}
	if res != nil && res.Manifest != nil {
		e.BackupIDs = append(e.BackupIDs, res.Manifest.ID)
	}
	g.recordAudit(ctx, r, e, err)
	if err != nil {
		return err
	}
	return printBackupResult(g, res, nil)
}
