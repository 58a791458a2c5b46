package backup

import (
	"context"
	"fmt"
	"slices"

	"github.com/milvault/milvault/milvus"
)

// target is one collection to back up.
type target struct {
	Database   string
	Collection string
	Partitions []string // empty: all
}

// plan resolves the selection against the server and fails early, naming
// what exists, when a database, collection or partition is unknown.
func plan(ctx context.Context, c Milvus, p Params) ([]target, error) {
	dbs := []string{p.Database}
	if p.AllDatabases {
		var err error
		if dbs, err = c.ListDatabases(ctx); err != nil {
			return nil, err
		}
	} else if err := c.CheckDatabase(ctx, p.Database); err != nil {
		return nil, err
	}
	var out []target
	for _, db := range dbs {
		ts, err := planDatabase(ctx, c, db, p)
		if err != nil {
			return nil, err
		}
		out = append(out, ts...)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("nothing to back up: %s has no collections", describeSelection(p))
	}
	return out, nil
}

func describeSelection(p Params) string {
	if p.AllDatabases {
		return "the server"
	}
	return fmt.Sprintf("database %q", p.Database)
}

func planDatabase(ctx context.Context, c Milvus, db string, p Params) ([]target, error) {
	existing, err := c.ListCollections(ctx, db)
	if err != nil {
		return nil, err
	}
	names := p.Collections
	if len(names) == 0 {
		names = existing
	}
	var out []target
	for _, name := range names {
		if !slices.Contains(existing, name) {
			return nil, &milvus.CollectionNotFoundError{Database: db, Collection: name, Available: existing}
		}
		if err := checkPartitions(ctx, c, db, name, p.Partitions); err != nil {
			return nil, err
		}
		out = append(out, target{Database: db, Collection: name, Partitions: p.Partitions})
	}
	return out, nil
}

func checkPartitions(ctx context.Context, c Milvus, db, coll string, want []string) error {
	if len(want) == 0 {
		return nil
	}
	have, err := c.Partitions(ctx, db, coll)
	if err != nil {
		return err
	}
	for _, p := range want {
		if !slices.Contains(have, p) {
			return &milvus.PartitionNotFoundError{Database: db, Collection: coll, Partition: p, Available: have}
		}
	}
	return nil
}
