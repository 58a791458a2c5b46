package cli

import (
	"context"

	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/milvus"
	"github.com/milvault/milvault/native"
	"github.com/milvault/milvault/progress"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/restore"
)

// nativeLoader returns the loader a native backup m is restored with, or
// nil for a logical backup or without --milvus-storage (the restore then
// refuses a native backup with advice).
func nativeLoader(ctx context.Context, storage string, c *milvus.Client, r *repo.Repository, m *manifest.Manifest, skipVerify bool, prog progress.Progress) (restore.NativeLoader, error) {
	if !m.IsNative() || storage == "" {
		return nil, nil
	}
	st, err := native.OpenStorage(ctx, storage)
	if err != nil {
		return nil, err
	}
	return &native.Loader{Milvus: c, Storage: st, Repo: r, SkipVerify: skipVerify, Progress: prog}, nil
}

// targetStorage opens the target Milvus's storage (--milvus-storage) for
// drilling or deep-verifying native backup m; nil for a logical backup or
// without the flag (the library then refuses a native backup with advice).
func targetStorage(ctx context.Context, storage string, m *manifest.Manifest) (*native.Storage, error) {
	if !m.IsNative() || storage == "" {
		return nil, nil
	}
	return native.OpenStorage(ctx, storage)
}
