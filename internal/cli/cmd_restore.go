package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/milvus"
	"github.com/milvault/milvault/progress"
	"github.com/milvault/milvault/restore"
)

// RestoreOptions are the flags of `milvault restore`.
type RestoreOptions struct {
	Collections  []string
	Partitions   []string
	Database     string
	Target       string
	Suffix       string
	DropExisting bool
	Yes          bool
	NoIndexes    bool
	Aliases      bool
	Load         bool
	NoLoad       bool
	AutoID       string
	NoVerify     bool
	Workers      int

	BulkImport           string
	BulkImportServerPath string
	BulkImportStrict     bool
	LockWait             time.Duration
	MilvusStorage        string    // the target's storage, for native backups
	pitr                 pitrFlags // --at, --at-ts, --allow-gaps (cmd_restore_pitr.go)
	rbacRestoreFlags               // --rbac, --rbac-only, --rbac-passwords, --rbac-existing (rbac.go)
}

// AddFlags registers the flags.
func (o *RestoreOptions) AddFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringArrayVarP(&o.Collections, "collection", "c", nil, "restore only this collection of the backup (name or database.name, repeatable)")
	f.StringArrayVarP(&o.Partitions, "partition", "p", nil, "restore only this partition (repeatable; one collection)")
	f.StringVar(&o.Database, "target-database", "", "restore into this database instead of the original one (created if missing)")
	f.StringVar(&o.Target, "target", "", "restore under this collection name (one collection)")
	f.StringVar(&o.Suffix, "suffix", "", "append this to every restored collection name")
	f.BoolVar(&o.DropExisting, "drop-existing", false, "drop a target collection that already exists (after the backup is verified; asks for confirmation)")
	f.BoolVarP(&o.Yes, "yes", "y", false, "confirm --drop-existing without asking")
	f.BoolVar(&o.NoIndexes, "no-indexes", false, "do not recreate indexes")
	f.BoolVar(&o.Aliases, "aliases", false, "recreate the backup's aliases (refuses to move an alias that points elsewhere)")
	f.BoolVar(&o.Load, "load", false, "load restored collections (default: as they were at backup time)")
	f.BoolVar(&o.NoLoad, "no-load", false, "leave restored collections released")
	f.StringVar(&o.AutoID, "auto-id", restore.AutoIDPreserve, "auto_id primary keys: preserve (keep keys, auto_id off) or regenerate (keep auto_id, new keys)")
	f.BoolVar(&o.NoVerify, "no-verify", false, "skip the checksum verification before writing (not recommended)")
	f.IntVar(&o.Workers, "workers", 2, "parallel insert calls (with --bulk-import: import tasks at a time)")
	f.StringVar(&o.BulkImport, "bulk-import", "", "load data with Milvus bulk import: stage the backup's Parquet files in this directory, which the Milvus server must be able to read (collections that cannot be imported fall back to insert calls with a warning)")
	f.StringVar(&o.BulkImportServerPath, "bulk-import-server-path", "", "the --bulk-import directory as the Milvus server names it, when that differs (a container mount; for a server on MinIO/S3, the key prefix in its bucket)")
	f.BoolVar(&o.BulkImportStrict, "bulk-import-strict", false, "fail instead of falling back to insert calls when a collection cannot be bulk-imported")
	addLockWaitFlag(f, &o.LockWait)
	o.rbacRestoreFlags.addFlags(f)
	addMilvusStorageFlag(f, &o.MilvusStorage)
	o.pitr.addFlags(f)
}

func newRestoreCommand(g *GlobalOptions) *cobra.Command {
	o := &RestoreOptions{}
	cmd := &cobra.Command{
		Use:   "restore <backup> | restore --at TIME -c COLLECTION",
		Short: "Restore collections from a backup (by id or name)",
		Example: `  milvault restore nightly                         # everything, original names
  milvault restore nightly -c docs --target docs_restored
  milvault restore nightly --suffix _copy --no-load
  milvault restore nightly -c docs --drop-existing --yes --aliases
  milvault restore nightly --suffix _copy --bulk-import /var/lib/milvus/import
  milvault restore --at 2026-11-30T17:04:05Z -c docs --target docs_at_1704   # point in time (milvault guard --capture)`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.pitr.wanted() {
				return runRestoreAt(cmd.Context(), g, o, args)
			}
			if len(args) != 1 {
				return usageErrorf("give the backup id or name (see milvault list), or --at TIME with -c COLLECTION")
			}
			return runRestore(cmd.Context(), g, o, args[0])
		},
	}
	o.AddFlags(cmd)
	return cmd
}

func (o *RestoreOptions) params() (restore.Params, error) {
	p := restore.Params{
		Collections: o.Collections, Partitions: o.Partitions, Database: o.Database, Target: o.Target,
		Suffix: o.Suffix, DropExisting: o.DropExisting, SkipIndexes: o.NoIndexes, Aliases: o.Aliases,
		AutoID: o.AutoID, SkipVerify: o.NoVerify, Workers: o.Workers,
		BulkImportDir: o.BulkImport, BulkImportServerPath: o.BulkImportServerPath, BulkImportStrict: o.BulkImportStrict,
	}
	switch {
	case o.Load && o.NoLoad:
		return p, usageErrorf("--load and --no-load contradict each other")
	case o.Load:
		p.Load = restore.LoadAlways
	case o.NoLoad:
		p.Load = restore.LoadNever
	}
	if o.Workers < 1 {
		return p, usageErrorf("--workers %d: use 1 to 64", o.Workers)
	}
	return p, p.Validate()
}

func runRestore(ctx context.Context, g *GlobalOptions, o *RestoreOptions, ref string) error {
	p, err := o.params()
	if err != nil {
		return err
	}
	r, m, err := g.findBackup(ctx, ref)
	if err != nil {
		return err
	}
	c, err := g.connect(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := g.confirmDrop(ctx, c, m, p, o.Yes); err != nil {
		return err
	}
	l, ctx, unlock, err := g.lockRepo(ctx, r, "restore", false, o.LockWait)
	if err != nil {
		return err
	}
	defer unlock()
	var rbac *restore.RBACResult
	if o.rbacRestoreFlags.wanted() {
		if rbac, err = restoreRBAC(ctx, g, &o.rbacRestoreFlags, c, r, m); err != nil {
			return err
		}
		if o.RBACOnly {
			return printRBACOnly(g, rbac)
		}
	}
	prog := g.progress()
	loader, err := nativeLoader(ctx, o.MilvusStorage, c, r, m, p.SkipVerify, prog)
	if err != nil {
		prog.Done()
		return err
	}
	res, err := restore.Run(ctx, restore.Deps{Milvus: c, Repo: r, Progress: prog, Lock: l, Native: loader}, m, p)
	prog.Done()
	g.recordAudit(ctx, r, restoreAuditEntry(g, m, p, res), err)
	if res != nil {
		for _, w := range res.Warnings {
			g.warnf("%s", w)
		}
	}
	if err != nil {
		return err
	}
	if g.JSON && rbac != nil {
		return writeJSON(g, struct {
			*restore.Result
			RBAC *restore.RBACResult `json:"rbac"`
		}{res, rbac})
	}
	return printRestoreResult(g, res)
}

func printRBACOnly(g *GlobalOptions, rbac *restore.RBACResult) error {
	if g.JSON {
		return writeJSON(g, struct {
			RBAC *restore.RBACResult `json:"rbac"`
		}{rbac})
	}
	return nil
}

func printRestoreResult(g *GlobalOptions, res *restore.Result) error {
	if g.JSON {
		return writeJSON(g, res)
	}
	for _, c := range res.Collections {
		extra := []string{fmt.Sprintf("%d indexes", c.Indexes)}
		if len(c.Aliases) > 0 {
			extra = append(extra, "aliases "+strings.Join(c.Aliases, ","))
		}
		if c.Loaded {
			extra = append(extra, "loaded")
		}
		if c.Method == restore.MethodBulkImport {
			extra = append(extra, "bulk-imported")
		}
		g.printf("restored %s -> %s.%s: %s rows, %s\n", c.Source, c.Database, c.Name, progress.HumanCount(c.Rows), strings.Join(extra, ", "))
	}
	g.printf("restore of backup %s finished in %s\n", res.BackupID, progress.HumanDuration(res.Duration))
	return nil
}

// confirmDrop lists the existing collections a restore with
// --drop-existing drops and asks before dropping them.
func (g *GlobalOptions) confirmDrop(ctx context.Context, c *milvus.Client, m *manifest.Manifest, p restore.Params, yes bool) error {
	doomed, err := restore.Doomed(ctx, c, m, p)
	if err != nil || len(doomed) == 0 {
		return err
	}
	if g.listing() {
		for _, name := range doomed {
			fmt.Fprintf(g.stderr, "will drop existing collection %s (and its data) before restoring it from backup %s\n", name, m.ID)
		}
	}
	return confirm(g, yes, fmt.Sprintf("drop %d existing %s before restoring backup %s", len(doomed), plural(len(doomed), "collection", "collections"), m.ID), "yes")
}
