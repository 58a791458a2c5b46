package verify

import (
	"context"
	"errors"
	"fmt"

	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/restore"
)

// deep restores backup m into scratch collections (loaded, since Milvus
// serves rows only from loaded collections) and compares every row with
// the backup files; when a source collection still exists it is compared
// too (informational: it may have changed since the backup). The scratch
// collections are dropped even on failure.
func deep(ctx context.Context, d Deps, m *manifest.Manifest, o Options) (*Report, error) {
	if d.Milvus == nil {
		return nil, errors.New("deep verification needs a Milvus server to restore into")
	}
	start := d.Now()
	rep := &Report{BackupID: m.ID, Mode: ModeDeep, Files: len(m.Files()), Rows: m.TotalRows()}
	res, drop, err := restore.Scratch(ctx, restore.Deps{Milvus: d.Milvus, Repo: d.Repo, Progress: d.Progress, Now: d.Now, Lock: d.Lock}, m,
		restore.Params{Suffix: o.Suffix, Load: restore.LoadAlways, Workers: o.Workers})
	defer drop()
	var dmg *DamagedError
	switch {
	case errors.As(err, &dmg):
		rep.Damaged = dmg.Files
	case err != nil:
		return nil, err
	default:
		if err := compareAll(ctx, d, m, res, rep); err != nil {
			return nil, err
		}
	}
	rep.OK = len(rep.Damaged) == 0 && allMatch(rep.Collections)
	rep.Duration = d.Now().Sub(start)
	return rep, nil
}

func compareAll(ctx context.Context, d Deps, m *manifest.Manifest, res *restore.Result, rep *Report) error {
	for _, rc := range res.Collections {
		found := m.Lookup(rc.Source)
		if len(found) != 1 {
			return fmt.Errorf("restored collection %s is not in backup %s", rc.Source, m.ID)
		}
		mc := found[0]
		d.Progress.Note("comparing every row of " + rc.Database + "." + rc.Name + " with the backup")
		cc, err := CompareWithBackup(ctx, d.Repo, d.Milvus, mc, rc.Database, rc.Name)
		if err != nil {
			return err
		}
		rep.Collections = append(rep.Collections, *cc)
		compareSourceAll(ctx, d, mc, rep)
	}
	return nil
}

// compareSourceAll compares every row of the source collection, if it
// still exists.
func compareSourceAll(ctx context.Context, d Deps, mc *manifest.Collection, rep *Report) {
	exists, err := d.Milvus.HasCollection(ctx, mc.Database, mc.Name)
	if err != nil || !exists {
		rep.Notes = append(rep.Notes, mc.QualifiedName()+": source collection not found on this server; not compared")
		return
	}
	cc, err := CompareWithBackup(ctx, d.Repo, d.Milvus, mc, mc.Database, mc.Name)
	if err != nil {
		rep.Notes = append(rep.Notes, fmt.Sprintf("%s: source not compared: %v", mc.QualifiedName(), err))
		return
	}
	sc := SourceCheck{Collection: mc.QualifiedName(), Sampled: int(mc.Rows)}
	for _, p := range cc.Partitions {
		sc.Diffs = append(sc.Diffs, p.Diffs...)
	}
	rep.Source = append(rep.Source, sc)
}

func allMatch(cs []CollectionCheck) bool {
	for _, c := range cs {
		if !c.Match {
			return false
		}
	}
	return true
}
