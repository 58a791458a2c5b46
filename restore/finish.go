package restore

import (
	"context"
	"slices"

	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/milvus"
)

// finish builds indexes, points aliases and loads the collection.
func finish(ctx context.Context, deps Deps, p Params, j *job, cr *CollectionResult) error {
	c := deps.Milvus
	if !p.SkipIndexes {
		for _, idx := range j.src.Indexes {
			deps.Progress.Note("creating index " + idx.Name + " on " + idx.Field)
			if err := c.CreateIndex(ctx, j.database, j.name, idx.Field, idx.Name, idx.Params); err != nil {
				return err
			}
			cr.Indexes++
		}
	}
	if err := pointAliases(ctx, c, p, j, cr); err != nil {
		return err
	}
	parts, load := loadPlan(p, j)
	if !load {
		return nil
	}
	deps.Progress.Note("loading " + j.database + "." + j.name)
	if err := c.Load(ctx, j.database, j.name, parts); err != nil {
		return err
	}
	cr.Loaded = true
	return nil
}

// pointAliases recreates the backup's aliases (with --aliases) and the
// aliases the replaced collection had.
func pointAliases(ctx context.Context, c Milvus, p Params, j *job, cr *CollectionResult) error {
	aliases := slices.Clone(j.oldAliases)
	if p.Aliases {
		aliases = append(aliases, j.src.Aliases...)
	}
	slices.Sort(aliases)
	for _, a := range slices.Compact(aliases) {
		cur, err := c.AliasTarget(ctx, j.database, a)
		if err != nil {
			return err
		}
		if cur == j.name {
			continue
		}
		if err := c.CreateAlias(ctx, j.database, j.name, a); err != nil {
			return err
		}
		cr.Aliases = append(cr.Aliases, a)
	}
	return nil
}

// loadPlan returns which partitions to load (nil: the whole collection) and
// whether to load at all.
func loadPlan(p Params, j *job) ([]string, bool) {
	switch p.Load {
	case LoadNever:
		return nil, false
	case LoadAlways:
		return nil, true
	}
	if j.src.LoadState != milvus.LoadStateLoaded && j.src.LoadState != milvus.LoadStateLoading {
		return nil, false
	}
	if len(j.src.LoadedPartitions) == 0 {
		return nil, true
	}
	var parts []string
	for _, lp := range j.src.LoadedPartitions {
		if slices.ContainsFunc(j.partitions, func(x manifest.Partition) bool { return x.Name == lp }) {
			parts = append(parts, lp)
		}
	}
	return parts, len(parts) > 0
}
