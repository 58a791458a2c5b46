package native

import (
	"context"
	"fmt"
	"os"

	"github.com/milvault/milvault/backup"
	"github.com/milvault/milvault/errkind"
	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/progress"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/local"
)

// LogicalCopy decodes native backup m of r (as Convert does) into a
// logical backup in a new repository in a temporary folder under dir (""
// means os.TempDir), for checks that read a backup's rows: a drill's
// sample searches and a deep verification's row-by-row comparison of a
// native backup restored by binlog import. The copy is not encrypted,
// even when r is: the folder is private to the process's user and remove
// deletes it (call it when done, also after an error).
func LogicalCopy(ctx context.Context, r *repo.Repository, m *manifest.Manifest, dir string, prog progress.Progress) (*repo.Repository, *manifest.Manifest, func(), error) {
	if !m.IsNative() {
		return nil, nil, func() {}, fmt.Errorf("backup %s is already a logical backup", m.ID)
	}
	tmp, err := os.MkdirTemp(dir, "milvault-decoded-")
	if err != nil {
		return nil, nil, func() {}, err
	}
	remove := func() { _ = os.RemoveAll(tmp) }
	cm, cr, err := decodeInto(ctx, r, m, tmp, prog)
	if err != nil {
		remove()
		return nil, nil, func() {}, fmt.Errorf("decode the segment files of native backup %s: %w", m.ID, err)
	}
	return cr, cm, remove, nil
}

func decodeInto(ctx context.Context, r *repo.Repository, m *manifest.Manifest, dir string, prog progress.Progress) (*manifest.Manifest, *repo.Repository, error) {
	st, err := local.New(dir)
	if err != nil {
		return nil, nil, err
	}
	cr, err := repo.OpenOrInit(ctx, st)
	if err != nil {
		return nil, nil, err
	}
	src := &binlogSource{m: m, repo: r}
	res, err := backup.Run(ctx, backup.Deps{Milvus: src, Repo: cr, Progress: prog},
		backup.Params{AllDatabases: true, Compression: "none", SkipSpaceCheck: true})
	if err != nil {
		return nil, nil, err
	}
	return res.Manifest, cr, nil
}

// CheckTarget refuses, before anything is created or read, a target that
// cannot take a native backup: no storage given, or a server without
// binlog import (the error advises converting the backup first).
func (l *Loader) CheckTarget(ctx context.Context) error {
	if l.Storage == nil {
		return errkind.New(errkind.Usage, "a native backup is restored by binlog import into the target Milvus's storage: give it (--milvus-storage, or milvus_storage in a service policy), or convert the backup to a logical one (milvault convert) and use that")
	}
	return l.checkServer(ctx)
}
