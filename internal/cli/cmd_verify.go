package cli

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/progress"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/verify"
)

// VerifyOptions are the flags of `milvault verify`.
type VerifyOptions struct {
	Mode     string
	Sample   string
	Seed     uint64
	LockWait time.Duration
	// MilvusStorage is the storage of --milvus: deep verifications of
	// native backups restore by binlog import through it.
	MilvusStorage string
}

// AddFlags registers the flags.
func (o *VerifyOptions) AddFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.Mode, "mode", verify.ModeChecksum, "checksum (re-read every file), quick (sample of files and rows), deep (restore into a scratch collection and compare every row)")
	f.StringVar(&o.Sample, "sample", "5%", "quick mode: share of files and rows to check, e.g. 5% or 0.05")
	f.Uint64Var(&o.Seed, "seed", 0, "quick mode: sampling seed (0: random; the seed used is reported)")
	addLockWaitFlag(f, &o.LockWait)
	addMilvusStorageFlag(f, &o.MilvusStorage)
}

func newVerifyCommand(g *GlobalOptions) *cobra.Command {
	o := &VerifyOptions{}
	cmd := &cobra.Command{
		Use:   "verify <backup>",
		Short: "Prove a backup intact: checksums, a quick sample, or a deep restore-and-compare",
		Example: `  milvault verify nightly
  milvault verify nightly --mode quick --sample 10%
  milvault verify nightly --mode deep --json`,
		Args: exactArgs(1, "the backup id or name (see milvault list)"),
		RunE: func(cmd *cobra.Command, args []string) error { return runVerify(cmd.Context(), g, o, args[0]) },
	}
	o.AddFlags(cmd)
	return cmd
}

func runVerify(ctx context.Context, g *GlobalOptions, o *VerifyOptions, ref string) error {
	frac, err := parseFraction(o.Sample)
	if err != nil {
		return err
	}
	if err := checkVerifyMode(o.Mode); err != nil {
		return err
	}
	r, m, err := g.findBackup(ctx, ref)
	if err != nil {
		return err
	}
	l, ctx, unlock, err := g.lockRepo(ctx, r, "verify", false, o.LockWait)
	if err != nil {
		return err
	}
	defer unlock()
	rep, err := verifyBackup(ctx, g, r, l, m, o.Mode, frac, o.Seed, o.MilvusStorage)
	if err != nil {
		return l.Stopped("verify", err)
	}
	return finishVerify(g, rep)
}

// verifyBackup runs one verification under the held lock l; it records
// its proof in the repository.
// storage (--milvus-storage) is needed for a deep verification of a native
// backup.
func verifyBackup(ctx context.Context, g *GlobalOptions, r *repo.Repository, l *repo.Lock, m *manifest.Manifest, mode string, frac float64, seed uint64, storage string) (*verify.Report, error) {
	d := verify.Deps{Repo: r, Lock: l}
	switch mode {
	case verify.ModeChecksum:
	case verify.ModeQuick:
		d.Milvus, _ = g.connect(ctx) // optional: without Milvus the source is not compared
	case verify.ModeDeep:
		c, err := g.connect(ctx)
		if err != nil {
			return nil, err
		}
		d.Milvus = c
		if d.Storage, err = targetStorage(ctx, storage, m); err != nil {
			c.Close()
			return nil, err
		}
	default:
		return nil, usageErrorf("--mode %q: use checksum, quick or deep", mode)
	}
	if d.Milvus != nil {
		defer d.Milvus.Close()
	}
	p := g.progress()
	defer p.Done()
	d.Progress = p
	return verify.Run(ctx, d, m, verify.Options{Mode: mode, Sample: frac, Seed: seed})
}

// finishVerify prints the report and turns a failed verification into exit 5.
func finishVerify(g *GlobalOptions, rep *verify.Report) error {
	if g.JSON {
		if err := writeJSON(g, rep); err != nil {
			return err
		}
	} else {
		printVerifyReport(g, rep)
	}
	if rep.OK {
		return nil
	}
	return &verify.DamagedError{BackupID: rep.BackupID, Files: failedItems(rep)}
}

func failedItems(rep *verify.Report) []verify.FileProblem {
	out := append([]verify.FileProblem(nil), rep.Damaged...)
	for _, c := range rep.Collections {
		for _, p := range c.Partitions {
			if !p.Match {
				out = append(out, verify.FileProblem{Path: c.Backup + "/" + p.Partition,
					Problem: fmt.Sprintf("restored copy differs: %s", formatDiffs(p.Diffs))})
			}
		}
	}
	return out
}

func formatDiffs(ds []verify.RowDiff) string {
	var parts []string
	for _, d := range ds {
		parts = append(parts, d.Problem+" key "+d.Key)
	}
	if len(parts) == 0 {
		return "row hashes differ"
	}
	return strings.Join(parts, ", ")
}

func printVerifyReport(g *GlobalOptions, rep *verify.Report) {
	verdict := "PASSED"
	if !rep.OK {
		verdict = "FAILED"
	}
	g.printf("verify %s (%s): %s — %d files, %s rows checked in %s\n", rep.BackupID, rep.Mode, verdict,
		rep.Files, progress.HumanCount(rep.Rows), progress.HumanDuration(rep.Duration))
	if rep.Mode == verify.ModeQuick {
		g.printf("  sample %.1f%%, seed %d (repeat with --seed %d)\n", rep.Sample*100, rep.Seed, rep.Seed)
	}
	for _, d := range rep.Damaged {
		g.printf("  DAMAGED %s: %s\n", d.Path, d.Problem)
	}
	for _, c := range rep.Collections {
		for _, p := range c.Partitions {
			g.printf("  %s %s/%s: backup %d rows, restored %d rows %s\n", matchWord(p.Match), c.Backup, p.Partition, p.BackupRows, p.LiveRows, formatDiffsIf(p))
		}
	}
	for _, s := range rep.Source {
		g.printf("  source %s: %d rows compared, %d differ (the source may have changed since the backup)\n", s.Collection, s.Sampled, len(s.Diffs))
	}
	for _, n := range rep.Notes {
		g.printf("  note: %s\n", n)
	}
}

func matchWord(ok bool) string {
	if ok {
		return "ok      "
	}
	return "MISMATCH"
}

func formatDiffsIf(p verify.PartitionCheck) string {
	if p.Match {
		return ""
	}
	return "(" + formatDiffs(p.Diffs) + ")"
}

// parseFraction reads "5%" or "0.05".
func parseFraction(s string) (float64, error) {
	v := strings.TrimSpace(s)
	scale := 1.0
	if strings.HasSuffix(v, "%") {
		v, scale = strings.TrimSuffix(v, "%"), 0.01
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f*scale <= 0 || f*scale > 1 {
		return 0, usageErrorf("--sample %q: use a share between 0 and 100%%, e.g. 5%% or 0.05", s)
	}
	return f * scale, nil
}
