package cli

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/milvault/milvault/audit"
	"github.com/milvault/milvault/capture"
	"github.com/milvault/milvault/pitr"
	"github.com/milvault/milvault/progress"
	"github.com/milvault/milvault/restore"
)

// pitrFlags are the point-in-time flags of `milvault restore`.
type pitrFlags struct {
	At        string
	AtTS      string
	AllowGaps bool
}

func (o *pitrFlags) addFlags(f *pflag.FlagSet) {
	f.StringVar(&o.At, "at", "", "restore one collection (-c) as it was at this time: RFC 3339 (2026-11-30T17:04:05Z) or a duration ago (15m); the newest backup before it plus the writes milvault guard captured (no backup argument)")
	f.StringVar(&o.AtTS, "at-ts", "", "like --at, as a Milvus hybrid timestamp (a write's MutationResult timestamp: it is included)")
	f.BoolVar(&o.AllowGaps, "allow-gaps", false, "with --at/--at-ts: restore even when the capture log may miss writes in the interval (the gaps are reported)")
}

func (o *pitrFlags) wanted() bool { return o.At != "" || o.AtTS != "" }

// hybrid returns the timestamp the flags ask for.
func (o *pitrFlags) hybrid(now time.Time) (uint64, error) {
	switch {
	case o.At != "" && o.AtTS != "":
		return 0, usageErrorf("--at and --at-ts both give the time: use one")
	case o.AtTS != "":
		ts, err := strconv.ParseUint(o.AtTS, 10, 64)
		if err != nil || ts == 0 {
			return 0, usageErrorf("--at-ts %q: give a Milvus hybrid timestamp (a positive integer, e.g. 449876543210987520)", o.AtTS)
		}
		return ts, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, o.At); err == nil {
		return capture.HybridTS(t) | (1<<18 - 1), nil // the whole millisecond
	}
	if d, err := time.ParseDuration(o.At); err == nil && d >= 0 {
		return capture.HybridTS(now.Add(-d)) | (1<<18 - 1), nil
	}
	return 0, usageErrorf("--at %q: give an RFC 3339 time (2026-11-30T17:04:05Z) or a duration ago (90s, 15m, 2h)", o.At)
}

// runRestoreAt is `milvault restore --at`: plan, confirm, restore, replay.
func runRestoreAt(ctx context.Context, g *GlobalOptions, o *RestoreOptions, args []string) error {
	if len(args) > 0 {
		return usageErrorf("--at chooses the backup itself: drop the backup argument %q", args[0])
	}
	if len(o.Collections) != 1 || len(o.Partitions) > 0 || o.rbacRestoreFlags.wanted() {
		return usageErrorf("--at restores one whole collection: give exactly one -c COLLECTION (no --partition, no --rbac)")
	}
	at, err := o.pitr.hybrid(time.Now())
	if err != nil {
		return err
	}
	p, err := o.params()
	if err != nil {
		return err
	}
	pp := pitr.Params{Collection: o.Collections[0], At: at, AllowGaps: o.pitr.AllowGaps, Restore: p}
	r, err := g.openRepo(ctx)
	if err != nil {
		return err
	}
	pl, err := pitr.MakePlan(ctx, r, pp)
	if err != nil {
		return err
	}
	for _, gap := range pl.Gaps {
		g.warnf("capture log gap (restoring anyway, --allow-gaps): %s", describeCaptureGap(gap))
	}
	for _, note := range pl.Notes {
		g.warnf("%s", note)
	}
	c, err := g.connect(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	p = pitr.RestoreParams(pp, pl)
	if pl.Backup == nil {
		g.warnf("no backup of %s is usable at that time; it is built from its creation in the capture log and every captured change since", o.Collections[0])
	} else if err := g.confirmDrop(ctx, c, pl.Backup, p, o.Yes); err != nil {
		return err
	}
	l, ctx, unlock, err := g.lockRepo(ctx, r, "restore", false, o.LockWait)
	if err != nil {
		return err
	}
	defer unlock()
	prog := g.progress()
	res, err := pitr.Execute(ctx, pitr.Deps{Milvus: c, Repo: r, Restore: restore.Deps{Progress: prog, Lock: l}}, pp, pl)
	prog.Done()
	if res != nil && res.Restore != nil {
		g.recordAudit(ctx, r, restoreAuditEntry(g, pl.Backup, p, res.Restore), err)
	} else if pl.Backup == nil {
		g.recordAudit(ctx, r, captureRestoreAuditEntry(g, p, res), err)
	}
	if err != nil {
		return err
	}
	return printPITRResult(g, res)
}

func printPITRResult(g *GlobalOptions, res *pitr.Result) error {
	if g.JSON {
		return writeJSON(g, res)
	}
	var kinds []string
	for k, n := range res.Counts {
		kinds = append(kinds, fmt.Sprintf("%d %s", n, strings.ToLower(k)))
	}
	sort.Strings(kinds)
	if res.Restore == nil {
		g.printf("created %s.%s from its creation in the capture log (%s)\n", res.Database, res.Name, tsText(res.Created.TS))
	} else {
		g.printf("restored backup %s (%s, snapshot %s) into %s.%s: %s rows\n", res.BackupID, res.BackupCollection, tsText(res.From), res.Database, res.Name, progress.HumanCount(res.Restore.Collections[0].Rows))
	}
	g.printf("replayed %d captured changes (%s) up to %s\n", res.Replayed, strings.Join(kinds, ", "), tsText(res.At))
	return nil
}

// tsText shows a hybrid timestamp as wall time and number.
func tsText(ts uint64) string {
	return fmt.Sprintf("%s, ts %d", capture.WallTime(ts).Format(time.RFC3339Nano), ts)
}

// captureRestoreAuditEntry is the audit entry of a point-in-time restore
// built from a captured creation (no backup).
func captureRestoreAuditEntry(g *GlobalOptions, p restore.Params, res *pitr.Result) audit.Entry {
	e := audit.Entry{Operation: audit.OpRestore, Params: g.commonParams(map[string]any{
		"milvus": g.Milvus, "collections": p.Collections, "database": p.Database, "target": p.Target, "suffix": p.Suffix,
		"drop_existing": p.DropExisting, "from": "capture log"})}
	if res != nil {
		e.Collections = []string{res.Database + "." + res.Name}
	}
	return e
}
