package restore

import (
	"context"
	"errors"

	"github.com/milvault/milvault/manifest"
)

// NativeLoader loads the segment files of a native backup (see
// manifest.ModeNative) into collections the restore has created; package
// native implements it. Check runs before anything is created and refuses
// a target that cannot take the files (no binlog import, damaged files);
// Load fills one created collection (restoring only the named partitions)
// and returns the rows it holds afterwards. Indexes, aliases and load
// state are then applied as for a logical backup.
type NativeLoader interface {
	Check(ctx context.Context, m *manifest.Manifest, collections []*manifest.Collection) error
	Load(ctx context.Context, src *manifest.Collection, db, name string, partitions []string) (int64, error)
}

// errNoNativeLoader refuses a native backup when the caller gave no loader.
var errNoNativeLoader = errors.New("this is a native backup (Milvus segment files): restore it with milvault restore --milvus-storage, or convert it to a logical backup first (milvault convert)")

// checkNative prepares deps for backup m: a native backup needs a loader,
// which checks the target before anything is created; a logical backup
// never uses one.
func checkNative(ctx context.Context, deps *Deps, m *manifest.Manifest, jobs []*job) error {
	if !m.IsNative() {
		deps.Native = nil
		return nil
	}
	if deps.Native == nil {
		return errNoNativeLoader
	}
	colls := make([]*manifest.Collection, len(jobs))
	for i, j := range jobs {
		colls[i] = j.src
	}
	return deps.Native.Check(ctx, m, colls)
}

// loadNative fills a created collection from its segment files.
func loadNative(ctx context.Context, deps Deps, j *job, cr *CollectionResult) (int64, error) {
	parts := make([]string, len(j.partitions))
	for i, p := range j.partitions {
		parts[i] = p.Name
	}
	cr.Method = MethodBinlogImport
	return deps.Native.Load(ctx, j.src, j.database, j.name, parts)
}
