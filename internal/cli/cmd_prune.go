package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/milvault/milvault/backup"
	"github.com/milvault/milvault/capture"
	"github.com/milvault/milvault/config"
	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/progress"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/retention"
)

// PruneOptions are the flags of `milvault prune`.
type PruneOptions struct {
	KeepLast, KeepDaily, KeepWeekly, KeepMonthly, MinKeep int
	KeepWithin, KeepCapture                               time.Duration
	Collection                                            string
	DryRun, Yes                                           bool
	LockWait                                              time.Duration
}

// AddFlags registers the flags.
func (o *PruneOptions) AddFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.IntVar(&o.KeepLast, "keep-last", 0, "keep the N newest backups")
	config.DurationVar(f, &o.KeepWithin, "keep-within", 0, "keep backups newer than this age, e.g. 30d, 12h, 2w")
	f.IntVar(&o.KeepDaily, "keep-daily", 0, "keep the newest backup of each of the last N days that have one")
	f.IntVar(&o.KeepWeekly, "keep-weekly", 0, "keep the newest backup of each of the last N ISO weeks that have one")
	f.IntVar(&o.KeepMonthly, "keep-monthly", 0, "keep the newest backup of each of the last N months that have one")
	config.DurationVar(f, &o.KeepCapture, "keep-capture", 0, "also keep capture log segments (milvault guard) newer than this age; older ones go once no retained backup needs them")
	f.IntVar(&o.MinKeep, "min-keep", 3, "always keep at least the N newest backups, whatever the other rules say")
	f.StringVarP(&o.Collection, "collection", "c", "", "only consider backups that contain this collection (name or database.name)")
	f.BoolVar(&o.DryRun, "dry-run", false, "print what would be deleted and the space freed, delete nothing")
	f.BoolVarP(&o.Yes, "yes", "y", false, "do not ask for confirmation on a terminal (without one prune never asks)")
	addLockWaitFlag(f, &o.LockWait)
}

func newPruneCommand(g *GlobalOptions) *cobra.Command {
	o := &PruneOptions{}
	cmd := &cobra.Command{
		Use:   "prune",
		Short: "Delete backups that the retention policy does not keep",
		Long: `prune applies a retention policy per selection (backups of the same set of
collections are judged together). A backup is kept when any rule keeps it;
--min-keep newest backups are always kept. Then the segments of the capture
log (milvault guard) that no retained backup needs are deleted: those whose
every write is older than the oldest retained backup of its collection (and
than --keep-capture); writes of collections without a backup are kept.`,
		Example: `  milvault prune --keep-daily 7 --keep-weekly 4 --keep-monthly 6 --dry-run
  milvault prune --keep-within 30d --min-keep 3 -c docs`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runPrune(cmd.Context(), g, o) },
	}
	o.AddFlags(cmd)
	return cmd
}

func (o *PruneOptions) policy() (retention.Policy, error) {
	p := retention.Policy{KeepLast: o.KeepLast, KeepDaily: o.KeepDaily, KeepWeekly: o.KeepWeekly,
		KeepMonthly: o.KeepMonthly, MinKeep: o.MinKeep, KeepWithin: o.KeepWithin}
	if err := p.Validate(); err != nil {
		return p, usageErrorf("%v", err)
	}
	if p.Empty() {
		return p, usageErrorf("give at least one of --keep-last, --keep-within, --keep-daily, --keep-weekly, --keep-monthly (prune refuses to keep only --min-keep)")
	}
	return p, nil
}

// pruneRow is one backup's verdict in the report.
type pruneRow struct {
	ID        string    `json:"id"`
	Name      string    `json:"name,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	Group     string    `json:"selection"`
	Keep      bool      `json:"keep"`
	Reasons   []string  `json:"reasons,omitempty"`
	Bytes     int64     `json:"bytes"`
}

type pruneReport struct {
	DryRun     bool       `json:"dry_run"`
	Backups    []pruneRow `json:"backups"`
	Deleted    []string   `json:"deleted"`
	FreedBytes int64      `json:"freed_bytes"`
	// Capture lists the capture log segments deleted (or, in a dry run,
	// that would be); nil when the log could not be read (no key).
	Capture *capture.PruneResult `json:"capture,omitempty"`
}

func runPrune(ctx context.Context, g *GlobalOptions, o *PruneOptions) error {
	pol, err := o.policy()
	if err != nil {
		return err
	}
	r, err := g.openRepo(ctx)
	if err != nil {
		return err
	}
	if o.Collection != "" && !r.Unlocked() {
		return r.NeedKey("prune --collection (collection names are encrypted)")
	}
	var l *repo.Lock
	if !o.DryRun { // the plan is made under the lock the deletions run under
		var unlock func()
		if l, ctx, unlock, err = g.lockRepo(ctx, r, "prune", true, o.LockWait); err != nil {
			return err
		}
		defer unlock()
		cleaned, err := backup.CleanUp(ctx, r, l, func(s string) { g.warnf("%s", s) })
		if err != nil {
			return err
		}
		for _, id := range cleaned {
			g.warnf("removed the leftovers of interrupted backup %s", id)
		}
	}
	all, problems, err := r.List(ctx)
	if err != nil {
		return err
	}
	if len(problems) > 0 {
		return fmt.Errorf("prune refuses to run while %d manifest(s) are unreadable (first: %v): fix or delete them first", len(problems), problems[0])
	}
	plan, err := retention.HoldLocked(ctx, r, retention.Plan(pol, all, o.Collection, time.Now()))
	if err != nil {
		return err
	}
	rep := pruneReportOf(plan, o.DryRun)
	if !o.DryRun {
		if err := g.confirmPrune(ctx, r, o, plan); err != nil {
			return err
		}
		err := deletePruned(ctx, r, l, &rep)
		if err == nil {
			rep.Capture, err = o.pruneCapture(ctx, g, r, l, retention.Retained(all, plan))
		}
		if n := rep.captureSegments(); len(rep.Deleted) > 0 || n > 0 || err != nil {
			e := pruneAuditEntry(g, o, plan, rep.Deleted)
			e.Params["capture_segments"], e.Params["keep_capture"] = n, o.KeepCapture.String()
			g.recordAudit(ctx, r, e, err)
		}
		if err != nil {
			return err
		}
	} else if rep.Capture, err = o.pruneCapture(ctx, g, r, l, retention.Retained(all, plan)); err != nil {
		return err
	}
	return printPrune(g, rep)
}

func (rep *pruneReport) captureSegments() int {
	if rep.Capture == nil {
		return 0
	}
	return len(rep.Capture.Segments)
}

// pruneCapture deletes the capture segments that the retained backups do
// not need; without the key of an encrypted repository it warns and skips.
func (o *PruneOptions) pruneCapture(ctx context.Context, g *GlobalOptions, r *repo.Repository, l *repo.Lock, retained []*manifest.Manifest) (*capture.PruneResult, error) {
	res, err := retention.PruneCapture(ctx, r, l, retained, retention.CaptureOptions{KeepWithin: o.KeepCapture, Now: time.Now(), DryRun: o.DryRun})
	var ke *repo.KeyError
	if errors.As(err, &ke) {
		g.warnf("capture log not pruned: %v", err)
		return nil, nil
	}
	if err != nil {
		return res, fmt.Errorf("prune the capture log: %w", l.Stopped("prune", err))
	}
	return res, nil
}

// deletePruned deletes the backups rep does not keep, recording each in
// rep.Deleted.
func deletePruned(ctx context.Context, r *repo.Repository, l *repo.Lock, rep *pruneReport) error {
	for _, row := range rep.Backups {
		if row.Keep {
			continue
		}
		if err := r.Delete(ctx, l, row.ID); err != nil {
			return fmt.Errorf("prune stopped after deleting %d backups: %w", len(rep.Deleted), l.Stopped("delete", err))
		}
		rep.Deleted = append(rep.Deleted, row.ID)
	}
	return nil
}

// confirmPrune lists the backups plan removes and, on a terminal, asks
// before removing them; without a terminal (cron, scripts) prune does not
// ask.
func (g *GlobalOptions) confirmPrune(ctx context.Context, r *repo.Repository, o *PruneOptions, plan []retention.Verdict) error {
	var removals []*manifest.Manifest
	for _, v := range plan {
		if !v.Keep {
			removals = append(removals, v.Manifest)
		}
	}
	if len(removals) == 0 {
		return nil
	}
	if err := g.listRemovals(ctx, r, removals); err != nil {
		return err
	}
	if o.Yes || !isTerminal(g.stdin) {
		return nil
	}
	return confirm(g, false, fmt.Sprintf("delete these %d backups", len(removals)), "yes")
}

// pruneReportOf turns a retention plan into the report prune prints.
func pruneReportOf(plan []retention.Verdict, dryRun bool) pruneReport {
	rep := pruneReport{DryRun: dryRun, Deleted: []string{}, FreedBytes: retention.Freed(plan)}
	for _, v := range plan {
		m := v.Manifest
		rep.Backups = append(rep.Backups, pruneRow{ID: m.ID, Name: m.Name, CreatedAt: m.CreatedAt, Group: v.Group,
			Keep: v.Keep, Reasons: v.Reasons, Bytes: m.TotalBytes()})
	}
	return rep
}

func printPrune(g *GlobalOptions, rep pruneReport) error {
	if g.JSON {
		return writeJSON(g, rep)
	}
	tw := tabwriter.NewWriter(g.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "VERDICT\tID\tNAME\tCREATED\tSELECTION\tSIZE\tWHY")
	removed := 0
	for _, b := range rep.Backups {
		verdict := "keep"
		if !b.Keep {
			verdict, removed = "remove", removed+1
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", verdict, b.ID, orDash(b.Name), b.CreatedAt.Local().Format("2006-01-02 15:04"),
			abbreviate(strings.Split(b.Group, ","), 2), progress.HumanBytes(b.Bytes), strings.Join(b.Reasons, ", "))
	}
	tw.Flush()
	if rep.DryRun {
		g.printf("dry run: would delete %d backups and free %s\n", removed, progress.HumanBytes(rep.FreedBytes))
	} else {
		g.printf("deleted %d backups, freed %s\n", len(rep.Deleted), progress.HumanBytes(rep.FreedBytes))
	}
	if c := rep.Capture; c != nil && len(c.Segments) > 0 {
		verb := "deleted"
		if rep.DryRun {
			verb = "dry run: would delete"
		}
		g.printf("%s %d capture log segments (%s) that no retained backup needs\n", verb, len(c.Segments), progress.HumanBytes(c.Bytes))
	}
	return nil
}
