package drill

import (
	"context"
	"fmt"
	"time"

	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/restore"
	"github.com/milvault/milvault/verify"
)

// Deep verifies backup m by restoring it into scratch collections (loaded,
// since Milvus serves rows only from loaded collections) and comparing every
// row with the backup files; when a source collection still exists it is
// compared too (informational: it may have changed since the backup). The
// scratch collections are dropped even on failure. The result is recorded
// in the repository.
func Deep(ctx context.Context, d Deps, m *manifest.Manifest, o Options) (*verify.Report, error) {
	d, o = d.withDefaults(), o.withDefaults()
	ctx, unlock, err := d.hold(ctx, o, "verify")
	if err != nil {
		return nil, err
	}
	defer unlock()
	start := d.Now()
	rep := &verify.Report{BackupID: m.ID, Mode: verify.ModeDeep, Files: len(m.Files()), Rows: m.TotalRows()}
	res, cleanup, err := restoreScratch(ctx, d, m, o, restore.LoadAlways)
	defer cleanup()
	var dmg *verify.DamagedError
	switch {
	case asDamaged(err, &dmg):
		rep.Damaged = dmg.Files
	case err != nil:
		return nil, err
	default:
		if err := compareAll(ctx, d, m, res, rep); err != nil {
			return nil, d.Lock.Stopped("verify", err)
		}
	}
	rep.OK = len(rep.Damaged) == 0 && allMatch(rep.Collections)
	rep.Duration = d.Now().Sub(start)
	return rep, recordDeep(ctx, d.Repo, rep)
}

func compareAll(ctx context.Context, d Deps, m *manifest.Manifest, res *restore.Result, rep *verify.Report) error {
	for _, rc := range res.Collections {
		mc := findCollection(m, rc.Source)
		d.Progress.Note("comparing every row of " + rc.Database + "." + rc.Name + " with the backup")
		cc, err := verify.CompareWithBackup(ctx, d.Repo.Store(), d.Milvus, mc, rc.Database, rc.Name)
		if err != nil {
			return err
		}
		rep.Collections = append(rep.Collections, *cc)
		compareSource(ctx, d, mc, rep)
	}
	return nil
}

// compareSource compares the source collection, if it still exists.
func compareSource(ctx context.Context, d Deps, mc *manifest.Collection, rep *verify.Report) {
	exists, err := d.Milvus.HasCollection(ctx, mc.Database, mc.Name)
	if err != nil || !exists {
		rep.Notes = append(rep.Notes, mc.QualifiedName()+": source collection not found on this server; not compared")
		return
	}
	cc, err := verify.CompareWithBackup(ctx, d.Repo.Store(), d.Milvus, mc, mc.Database, mc.Name)
	if err != nil {
		rep.Notes = append(rep.Notes, fmt.Sprintf("%s: source not compared: %v", mc.QualifiedName(), err))
		return
	}
	sc := verify.SourceCheck{Collection: mc.QualifiedName(), Sampled: int(mc.Rows)}
	for _, p := range cc.Partitions {
		sc.Diffs = append(sc.Diffs, p.Diffs...)
	}
	rep.Source = append(rep.Source, sc)
}

func allMatch(cs []verify.CollectionCheck) bool {
	for _, c := range cs {
		if !c.Match {
			return false
		}
	}
	return true
}

func recordDeep(ctx context.Context, r *repo.Repository, rep *verify.Report) error {
	return r.RecordProof(ctx, repo.Proof{BackupID: rep.BackupID, Kind: repo.ProofDeep, OK: rep.OK, At: time.Now().UTC(),
		Summary: fmt.Sprintf("deep verification: %d rows compared", rep.Rows)})
}
