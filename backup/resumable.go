package backup

import (
	"context"
	"encoding/json"

	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/repo"
)

// FindResumable returns the newest interrupted logical backup in r that a
// run of p could finish (Params.Resume with Params.ResumeID): one with a
// readable progress record, the same selection and the same options. It
// returns "" when there is none; an interrupted backup of another
// selection is left alone. A service uses it to resume a scheduled backup
// that was interrupted (process killed, Milvus restarted) instead of
// starting over.
func FindResumable(ctx context.Context, r *repo.Repository, p Params) (string, error) {
	p, err := p.normalize()
	if err != nil {
		return "", err
	}
	ids, err := r.Resumable(ctx)
	if err != nil {
		return "", err
	}
	for i := len(ids) - 1; i >= 0; i-- {
		data, err := r.ReadJournal(ctx, ids[i])
		if err != nil {
			continue // unreadable: not resumable (a cleanup removes it)
		}
		var j journal
		if json.Unmarshal(data, &j) != nil || j.Manifest == nil || j.Manifest.ID != ids[i] {
			continue
		}
		if j.Manifest.Options.Mode != manifest.ModeNative && sameSelection(j.Manifest, p) == nil {
			return ids[i], nil
		}
	}
	return "", nil
}

// distinctPaths counts the distinct files of files (a journal may name a
// file both in its manifest and in its progress record).
func distinctPaths(files []manifest.File) int {
	seen := map[string]bool{}
	for _, f := range files {
		seen[f.Path] = true
	}
	return len(seen)
}
