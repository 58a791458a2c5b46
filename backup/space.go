package backup

import (
	"context"
	"fmt"

	"github.com/milvault/milvault/milvus"
	"github.com/milvault/milvault/progress"
)

// InsufficientStorageError reports a repository without room for a backup.
type InsufficientStorageError struct {
	Location  string
	Required  int64 // estimated bytes the backup needs
	Available int64
}

func (e *InsufficientStorageError) Error() string {
	return fmt.Sprintf("not enough space at %s: the backup needs about %s, %s available (free space, choose another --repo, or pass --skip-space-check if the estimate is wrong)",
		e.Location, progress.HumanBytes(e.Required), progress.HumanBytes(e.Available))
}

// checkSpace compares a pessimistic estimate of the backup's size (raw data,
// no credit for compression) with the free space of a local repository.
func checkSpace(ctx context.Context, deps Deps, p Params, targets []target) error {
	if p.SkipSpaceCheck {
		return nil
	}
	avail, err := deps.Repo.FreeSpace(ctx)
	if err != nil {
		return nil // unknown (an object store): the write itself will tell
	}
	var need int64
	for _, t := range targets {
		desc, err := deps.Milvus.Describe(ctx, t.Database, t.Collection)
		if err != nil {
			return err
		}
		rows, err := deps.Milvus.RowCount(ctx, t.Database, t.Collection)
		if err != nil {
			return err
		}
		need += rows * int64(milvus.EstimateRowBytes(desc.GetSchema()))
	}
	if need > avail {
		return &InsufficientStorageError{Location: deps.Repo.Location(), Required: need, Available: avail}
	}
	return nil
}
