package repo

import (
	"context"

	"github.com/milvault/milvault/manifest"
)

// Latest returns the newest committed backup, or the newest that holds
// collection ("name" or "database.name") when it is not empty. It returns
// a *BackupNotFoundError when there is none, and a *KeyError when a
// collection is asked of an encrypted repository read without its key
// (collection names are encrypted).
func (r *Repository) Latest(ctx context.Context, collection string) (*manifest.Manifest, error) {
	if collection != "" {
		if err := r.needKey("finding the latest backup of " + collection); err != nil {
			return nil, err
		}
	}
	all, _, err := r.List(ctx)
	if err != nil {
		return nil, err
	}
	for _, m := range all {
		if collection == "" || m.Contains(collection) {
			return m, nil
		}
	}
	ref := "latest"
	if collection != "" {
		ref = "latest with collection " + collection
	}
	return nil, &BackupNotFoundError{Ref: ref, Available: ids(all)}
}

func ids(ms []*manifest.Manifest) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}
