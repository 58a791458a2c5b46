package restore

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"

	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/milvus"
)

// job is one collection to restore.
type job struct {
	src        *manifest.Collection
	schema     *schemapb.CollectionSchema // as recorded, renamed to the target
	database   string
	name       string
	partitions []manifest.Partition // the partitions to restore
	exists     bool                 // target exists and will be dropped
	oldAliases []string             // aliases of the dropped target, recreated after
	bulk       bool                 // load the data with bulk import (see planBulkImport)
	warnings   []string             // found while restoring, for Result.Warnings
}

// ExistsError reports a target collection that already exists.
type ExistsError struct {
	Database, Collection string
	Differences          []string // schema differences from the backup; empty if identical
}

func (e *ExistsError) Error() string {
	msg := fmt.Sprintf("collection %s.%s already exists", e.Database, e.Collection)
	if len(e.Differences) == 0 {
		msg += " (same schema as the backup)"
	} else {
		msg += " with a different schema: " + strings.Join(e.Differences, "; ")
	}
	return msg + ": restore under another name with --target NAME or --suffix S, or replace it with --drop-existing"
}

// AliasConflictError reports an alias that points at another collection.
type AliasConflictError struct {
	Database, Alias, Current, Target string
}

func (e *AliasConflictError) Error() string {
	return fmt.Sprintf("alias %s.%s already points at collection %s; refusing to move it to %s (drop or alter the alias first, or restore without --aliases)", e.Database, e.Alias, e.Current, e.Target)
}

// planJobs selects collections and partitions from the manifest and names
// their targets.
func planJobs(m *manifest.Manifest, p Params) ([]*job, error) {
	cols, err := selectCollections(m, p.Collections)
	if err != nil {
		return nil, err
	}
	if p.Target != "" && len(cols) != 1 {
		return nil, fmt.Errorf("--target renames one collection, but %d are selected: pick one with --collection, or use --suffix", len(cols))
	}
	if len(p.Partitions) > 0 && len(cols) != 1 {
		return nil, fmt.Errorf("--partition needs exactly one collection, but %d are selected: pick one with --collection", len(cols))
	}
	var jobs []*job
	for _, c := range cols {
		j, err := newJob(c, p)
		if err != nil {
			return nil, err
		}
		jobs = append(jobs, j)
	}
	return jobs, nil
}

func selectCollections(m *manifest.Manifest, want []string) ([]*manifest.Collection, error) {
	if len(want) == 0 {
		out := make([]*manifest.Collection, len(m.Collections))
		for i := range m.Collections {
			out[i] = &m.Collections[i]
		}
		return out, nil
	}
	var out []*manifest.Collection
	for _, w := range want {
		c, err := findCollection(m, w)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

func findCollection(m *manifest.Manifest, ref string) (*manifest.Collection, error) {
	found := m.Lookup(ref)
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		var names []string
		for _, c := range m.Collections {
			names = append(names, c.QualifiedName())
		}
		return nil, fmt.Errorf("collection %q is %w %s; it holds: %s", ref, ErrNotInBackup, m.ID, strings.Join(names, ", "))
	}
	return nil, fmt.Errorf("collection name %q is ambiguous in backup %s: say database.name", ref, m.ID)
}

func newJob(c *manifest.Collection, p Params) (*job, error) {
	schema, err := c.DecodeSchema()
	if err != nil {
		return nil, err
	}
	j := &job{src: c, schema: schema, database: c.Database, name: c.Name + p.Suffix}
	if p.Database != "" {
		j.database = p.Database
	}
	if p.Target != "" {
		j.name = p.Target
	}
	schema.Name = j.name
	parts, err := selectPartitions(c, p.Partitions)
	j.partitions = parts
	return j, err
}

func selectPartitions(c *manifest.Collection, want []string) ([]manifest.Partition, error) {
	if len(want) == 0 {
		return c.Partitions, nil
	}
	var out []manifest.Partition
	for _, w := range want {
		i := slices.IndexFunc(c.Partitions, func(p manifest.Partition) bool { return p.Name == w })
		if i < 0 {
			var have []string
			for _, p := range c.Partitions {
				have = append(have, p.Name)
			}
			return nil, fmt.Errorf("partition %q of %s is %w; it holds: %s", w, c.QualifiedName(), ErrNotInBackup, strings.Join(have, ", "))
		}
		out = append(out, c.Partitions[i])
	}
	return out, nil
}

func jobFiles(jobs []*job) []manifest.File {
	var out []manifest.File
	for _, j := range jobs {
		for _, p := range j.partitions {
			out = append(out, p.Files...)
		}
	}
	return out
}

// preflight checks, before anything is written, that every target can be
// created: the server's features (Check), existing collections, alias
// conflicts, auto-id handling.
func preflight(ctx context.Context, c Milvus, p Params, jobs []*job, res *Result) error {
	if err := checkJobs(ctx, c, p, jobs); err != nil {
		return err
	}
	for _, j := range jobs {
		if err := checkTarget(ctx, c, p, j); err != nil {
			return err
		}
		if p.Aliases {
			if err := checkAliases(ctx, c, j, jobs); err != nil {
				return err
			}
		}
		if w := applyAutoID(j, p.AutoID); w != "" {
			res.Warnings = append(res.Warnings, w)
		}
	}
	return nil
}

func checkTarget(ctx context.Context, c Milvus, p Params, j *job) error {
	exists, err := c.HasCollection(ctx, j.database, j.name)
	if err != nil || !exists {
		return err
	}
	if p.DropExisting {
		j.exists = true
		j.oldAliases, err = c.Aliases(ctx, j.database, j.name)
		return err
	}
	desc, err := c.Describe(ctx, j.database, j.name)
	if err != nil {
		return err
	}
	return &ExistsError{Database: j.database, Collection: j.name, Differences: milvus.DiffSchemas(j.schema, desc.GetSchema())}
}

// checkAliases refuses to move an alias that points at a collection other
// than the one being replaced.
func checkAliases(ctx context.Context, c Milvus, j *job, jobs []*job) error {
	for _, a := range j.src.Aliases {
		cur, err := c.AliasTarget(ctx, j.database, a)
		if err != nil {
			return err
		}
		if cur == "" || cur == j.name {
			continue
		}
		return &AliasConflictError{Database: j.database, Alias: a, Current: cur, Target: j.name}
	}
	return nil
}

// applyAutoID adapts an auto-id primary key to the chosen mode and returns a
// warning for the operator, or "".
func applyAutoID(j *job, mode string) string {
	pk := milvus.PrimaryField(j.schema)
	if pk == nil || !pk.GetAutoID() {
		return ""
	}
	if mode == AutoIDRegenerate {
		return fmt.Sprintf("%s.%s: primary key %q is auto_id; the server assigns new keys to restored rows (--auto-id=regenerate)", j.database, j.name, pk.GetName())
	}
	pk.AutoID = false
	return fmt.Sprintf("%s.%s: primary key %q was auto_id; it is recreated with auto_id off so that every key is preserved (new inserts must supply keys; use --auto-id=regenerate to keep auto_id and get new keys)", j.database, j.name, pk.GetName())
}
