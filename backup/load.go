package backup

import (
	"context"
	"fmt"
	"time"

	"github.com/milvault/milvault/milvus"
)

// ensureLoaded makes the collection queryable for the scan: Milvus serves
// queries only from loaded collections. A collection that was not (fully)
// loaded is loaded for the backup, and the returned function puts its load
// state back as it was. The manifest keeps the original state.
func ensureLoaded(ctx context.Context, deps Deps, c *captured) (func() error, error) {
	if c.LoadState == milvus.LoadStateLoaded && len(c.LoadedPartitions) == 0 {
		return func() error { return nil }, nil
	}
	m := deps.Milvus
	deps.Progress.Note(fmt.Sprintf("%s is not loaded; loading it for the backup (released again afterwards)", c.QualifiedName()))
	if err := m.Load(ctx, c.Database, c.Name, nil); err != nil {
		return nil, fmt.Errorf("%s is not loaded, and Milvus serves rows only from loaded collections; loading it failed: %w (if a vector field has no index, create one, then back up again)", c.QualifiedName(), err)
	}
	return func() error { return restoreLoadState(ctx, m, c) }, nil
}

// restoreLoadState releases the collection and reloads what was loaded.
func restoreLoadState(ctx context.Context, m Milvus, c *captured) error {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Minute)
	defer cancel()
	if err := m.Release(cctx, c.Database, c.Name); err != nil {
		return err
	}
	if len(c.LoadedPartitions) > 0 {
		return m.Load(cctx, c.Database, c.Name, c.LoadedPartitions)
	}
	return nil
}
