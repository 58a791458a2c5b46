package drill

import (
	"context"

	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/native"
	"github.com/milvault/milvault/restore"
)

// A native backup is drilled like a logical one: restored into scratch
// collections (by binlog import, native.Loader, which checks every
// segment file before anything is created), timed, then checked. Its rows
// come from a logical copy decoded from its segment files
// (native.LogicalCopy) after the RTO is measured: the row counts are the
// live rows decoded (deletes applied), and the sample searches use
// vectors of decoded rows.

// loader is the native loader for backup m, nil for a logical backup.
func (d Deps) loader(m *manifest.Manifest) restore.NativeLoader {
	if !m.IsNative() {
		return nil
	}
	return &native.Loader{Milvus: d.Milvus, Storage: d.Storage, Repo: d.Repo, Progress: d.Progress}
}

// checkTarget refuses a native backup the target cannot take, before
// anything is locked, created or recorded.
func checkTarget(ctx context.Context, d Deps, m *manifest.Manifest) error {
	if !m.IsNative() {
		return nil
	}
	l := &native.Loader{Milvus: d.Milvus, Storage: d.Storage, Repo: d.Repo}
	return l.CheckTarget(ctx)
}

// checkRestored checks the restored scratch collections against m, or
// for a native backup against its decoded logical copy.
func checkRestored(ctx context.Context, d Deps, m *manifest.Manifest, o Options, res *restore.Result, rep *Report) {
	if !m.IsNative() {
		checkCollections(ctx, d, m, o, res, rep)
		return
	}
	d.Progress.Note("decoding the segment files of " + m.ID + " for the row checks")
	cr, cm, remove, err := native.LogicalCopy(ctx, d.Repo, m, "", d.Progress)
	defer remove()
	if err != nil {
		rep.Failures = append(rep.Failures, err.Error())
		return
	}
	d.Repo = cr
	checkCollections(ctx, d, cm, o, res, rep)
}
