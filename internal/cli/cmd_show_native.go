package cli

import (
	"context"

	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/progress"
	"github.com/milvault/milvault/repo"
)

// printSharing prints, for a native backup, how many of its stored bytes
// other backups share (deleting it frees only the rest).
func printSharing(ctx context.Context, g *GlobalOptions, r *repo.Repository, m *manifest.Manifest) error {
	if !m.IsNative() {
		return nil
	}
	all, _, err := r.List(ctx)
	if err != nil {
		return err
	}
	s := manifest.SharingOf(m, all)
	segs := 0
	for _, c := range m.Collections {
		segs += len(c.Segments)
	}
	g.printf("native      %d segments, %d stored files (%s); %s shared with other backups, %s only in this one\n",
		segs, s.Files, progress.HumanBytes(s.Bytes), progress.HumanBytes(s.Shared), progress.HumanBytes(s.Bytes-s.Shared))
	return nil
}
