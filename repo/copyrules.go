package repo

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"golang.org/x/sync/errgroup"

	"github.com/milvault/milvault/errkind"
	"github.com/milvault/milvault/manifest"
)

// NeedKey returns a *KeyError naming what when the repository is encrypted
// and was not unlocked, else nil. Operations that read a backup's content
// (restore, show, verify quick/deep, drill) call it first, so that they fail
// before anything is created.
func (r *Repository) NeedKey(what string) error { return r.needKey(what) }

// CheckCopy refuses a copy from src into dst that could not be read at
// dst: copies move stored bytes as they are, so both repositories must be
// plain, or both encrypted to the same repository key.
func CheckCopy(src, dst *Repository) error {
	switch {
	case src.Encrypted() && !dst.Encrypted():
		return errkind.New(errkind.Usage, "refusing to copy from encrypted repository %s into unencrypted %s: copies move ciphertext as it is and never decrypt; copy into an encrypted repository made with `milvault copy --init` (it shares the source's key)", src.Location(), dst.Location())
	case !src.Encrypted() && dst.Encrypted():
		return errkind.New(errkind.Usage, "refusing to copy from unencrypted repository %s into encrypted %s: copies move stored bytes as they are and never encrypt them; back up into the encrypted repository instead", src.Location(), dst.Location())
	case src.Encrypted() && src.cfg.Encryption.Recipient != dst.cfg.Encryption.Recipient:
		return errkind.New(errkind.Usage, "refusing to copy: %s and %s are encrypted with different repository keys, so the copied ciphertext could not be read at the destination; copy into a new location with `milvault copy --init`, which shares the source's key", src.Location(), dst.Location())
	}
	return nil
}

// CommitCopy commits at r the backup m copied from src, whose files r
// already holds. A plain manifest is committed as Commit does; an
// encrypted one is copied as stored, so that no key is needed and the
// copy is byte for byte the source's.
func (r *Repository) CommitCopy(ctx context.Context, src *Repository, m *manifest.Manifest) error {
	if err := CheckCopy(src, r); err != nil {
		return err
	}
	if !r.Encrypted() {
		return r.Commit(ctx, m)
	}
	if err := r.checkStoredSizes(ctx, m); err != nil {
		return err
	}
	rc, err := src.store.Open(ctx, manifest.Path(m.ID))
	if err != nil {
		return fmt.Errorf("copy manifest of %s: %w", m.ID, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		return fmt.Errorf("copy manifest of %s: %w", m.ID, err)
	}
	if _, err := r.decodeManifest(manifest.Path(m.ID), data); err != nil {
		return fmt.Errorf("copy manifest of %s: %w", m.ID, err)
	}
	if err := r.store.Put(r.retained(ctx), manifest.Path(m.ID), bytes.NewReader(data)); err != nil {
		return fmt.Errorf("commit %s: %w", m.ID, err)
	}
	return r.store.Delete(ctx, pendingPath(m.ID))
}

// checkStoredSizes checks that every file m names is stored with its size.
func (r *Repository) checkStoredSizes(ctx context.Context, m *manifest.Manifest) error {
	// A native backup names thousands of files: one at a time, an object
	// store's round trips would dominate the commit.
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(commitStats)
	for _, f := range m.Files() {
		g.Go(func() error {
			fi, err := r.store.Stat(gctx, f.Path)
			if err != nil {
				return fmt.Errorf("commit %s: %w", m.ID, err)
			}
			if fi.Size != f.Size {
				return fmt.Errorf("commit %s: %s has %d bytes, expected %d", m.ID, f.Path, fi.Size, f.Size)
			}
			return nil
		})
	}
	return g.Wait()
}

// commitStats is how many files Commit checks at once.
const commitStats = 16
