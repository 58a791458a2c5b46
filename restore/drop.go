package restore

import (
	"context"

	"github.com/milvault/milvault/manifest"
)

// Doomed returns the existing collections (database.name) that restoring m
// with p would drop: with DropExisting, every target that exists now;
// without it, none. A command lists them before asking for confirmation.
func Doomed(ctx context.Context, c Milvus, m *manifest.Manifest, p Params) ([]string, error) {
	if !p.DropExisting {
		return nil, nil
	}
	jobs, err := planJobs(m, p.withDefaults())
	if err != nil {
		return nil, err
	}
	var out []string
	for _, j := range jobs {
		exists, err := c.HasCollection(ctx, j.database, j.name)
		if err != nil {
			return nil, err
		}
		if exists {
			out = append(out, j.database+"."+j.name)
		}
	}
	return out, nil
}
