package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/milvault/milvault/config"
	"github.com/milvault/milvault/drill"
	"github.com/milvault/milvault/errkind"
	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/repo"
)

// DrillOptions are the flags of `milvault drill`.
type DrillOptions struct {
	TargetMilvus string
	MaxRTO       time.Duration
	Samples      int
	Collection   string
	Workers      int
	LockWait     time.Duration
	// MilvusStorage is the target's storage: native backups are drilled
	// by binlog import through it.
	MilvusStorage string
}

// AddFlags registers the flags.
func (o *DrillOptions) AddFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.TargetMilvus, "target-milvus", "", "Milvus to restore into (default: --milvus); scratch collections are dropped afterwards")
	config.DurationVar(f, &o.MaxRTO, "max-rto", 0, "fail when the time to a loaded, searchable collection exceeds this (e.g. 15m)")
	f.IntVar(&o.Samples, "samples", 10, "sample searches per searchable vector index")
	f.StringVarP(&o.Collection, "collection", "c", "", "without <backup>: drill the latest backup that contains this collection")
	f.IntVar(&o.Workers, "workers", 2, "parallel insert calls")
	addLockWaitFlag(f, &o.LockWait)
	addMilvusStorageFlag(f, &o.MilvusStorage)
}

func newDrillCommand(g *GlobalOptions) *cobra.Command {
	o := &DrillOptions{}
	cmd := &cobra.Command{
		Use:   "drill [backup]",
		Short: "Disaster-recovery drill: restore into scratch collections, measure the RTO, check, clean up",
		Example: `  milvault drill                                   # the latest backup
  milvault drill nightly --target-milvus standby:19530 --max-rto 15m --json`,
		Args: maxArgs(1, "at most one backup id or name"),
		RunE: func(cmd *cobra.Command, args []string) error { return runDrill(cmd.Context(), g, o, args) },
	}
	o.AddFlags(cmd)
	return cmd
}

func runDrill(ctx context.Context, g *GlobalOptions, o *DrillOptions, args []string) error {
	r, err := g.openRepo(ctx)
	if err != nil {
		return err
	}
	l, ctx, unlock, err := g.lockRepo(ctx, r, "drill", false, o.LockWait)
	if err != nil {
		return err
	}
	defer unlock()
	m, err := drillBackup(ctx, r, args, o.Collection)
	if err != nil {
		return err
	}
	addr := firstSet(o.TargetMilvus, g.Milvus)
	c, err := g.connectTo(ctx, addr)
	if err != nil {
		return err
	}
	defer c.Close()
	st, err := targetStorage(ctx, o.MilvusStorage, m)
	if err != nil {
		return err
	}
	p := g.progress()
	rep, err := drill.Run(ctx, drill.Deps{Repo: r, Milvus: c, Progress: p, Lock: l, Storage: st}, m,
		drill.Options{MaxRTO: o.MaxRTO, Samples: o.Samples, Workers: o.Workers})
	p.Done()
	if rep != nil {
		if perr := printDrill(g, rep); perr != nil {
			return perr
		}
	}
	if err != nil {
		return err
	}
	if !rep.OK {
		return errkind.Wrap(errkind.CheckFailed, fmt.Errorf("drill of %s failed: %s", rep.BackupID, rep.Failures[0]))
	}
	return nil
}

// drillBackup picks the named backup, or the latest (containing coll).
// drillBackup is the backup named in args, else the newest one holding
// coll (any backup when coll is empty).
func drillBackup(ctx context.Context, r *repo.Repository, args []string, coll string) (*manifest.Manifest, error) {
	if len(args) == 1 {
		return r.Find(ctx, args[0])
	}
	return r.Latest(ctx, coll)
}

func printDrill(g *GlobalOptions, rep *drill.Report) error {
	if g.JSON {
		return writeJSON(g, rep)
	}
	verdict := "PASSED"
	if !rep.OK {
		verdict = "FAILED"
	}
	g.printf("drill of %s on %s: %s, RTO %.1fs", rep.BackupID, rep.Target, verdict, rep.RTOSeconds)
	if rep.MaxRTOSeconds > 0 {
		g.printf(" (max %.0fs)", rep.MaxRTOSeconds)
	}
	g.printf("\n")
	for _, c := range rep.Collections {
		g.printf("  %s -> %s: %d/%d rows, sample searches %d/%d passed %s\n", c.Source, c.Scratch, c.Rows, c.ExpectedRows, c.SearchHits, c.Searches, c.SearchSkipped)
	}
	for _, f := range rep.Failures {
		g.printf("  FAILURE: %s\n", f)
	}
	return nil
}
