package repo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
)

// CapturePrefix is the folder of the guard's capture log (package capture):
// segment files of acknowledged inserts, upserts and deletes.
const CapturePrefix = "capture/"

func checkCaptureName(name string) error {
	rest, ok := strings.CutPrefix(name, CapturePrefix)
	if !ok || rest == "" || strings.Contains(rest, "..") {
		return fmt.Errorf("repository file %q: capture files lie under %s", name, CapturePrefix)
	}
	return nil
}

// PutCaptureFile stores one finished segment of the capture log under name
// (below CapturePrefix). Put is atomic, so a reader sees the whole segment or
// nothing. In an encrypted repository the bytes are encrypted (authenticated)
// as they are, without the JSON envelope of meta files, and the name is the
// caller's: it must not reveal what the segment holds. The repository's
// object-lock retention applies.
func (r *Repository) PutCaptureFile(ctx context.Context, name string, data []byte) error {
	if err := checkCaptureName(name); err != nil {
		return err
	}
	if r.crypt != nil {
		sealed, err := r.sealBytes(data)
		if err != nil {
			return fmt.Errorf("encrypt %s: %w", name, err)
		}
		data = sealed
	}
	return r.putWhole(ctx, name, data)
}

// PutCaptureState stores a small state file of the capture log that is
// rewritten in place (a guard's heartbeat, a prune mark): encrypted like a
// segment, but without the object lock's retention, which would keep every
// rewrite as a locked version (or, on a local store, make the file
// read-only, so that the next rewrite fails).
func (r *Repository) PutCaptureState(ctx context.Context, name string, data []byte) error {
	if err := checkCaptureName(name); err != nil {
		return err
	}
	if r.crypt != nil {
		sealed, err := r.sealBytes(data)
		if err != nil {
			return fmt.Errorf("encrypt %s: %w", name, err)
		}
		data = sealed
	}
	if err := r.store.Put(ctx, name, bytes.NewReader(data)); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}

// ReadCaptureFile returns a segment written with PutCaptureFile. A missing
// file answers an error wrapping ErrNotFound; changed bytes of an encrypted
// file a *ContentError; an encrypted repository opened without its key a
// *KeyError.
func (r *Repository) ReadCaptureFile(ctx context.Context, name string) ([]byte, error) {
	if err := checkCaptureName(name); err != nil {
		return nil, err
	}
	data, err := r.readWhole(ctx, name)
	if err != nil {
		return nil, err
	}
	if r.crypt == nil {
		return data, nil
	}
	return r.unsealBytes(name, data)
}

// ListCaptureFiles lists the files under prefix (CapturePrefix or a folder
// below it), sorted by name.
func (r *Repository) ListCaptureFiles(ctx context.Context, prefix string) ([]FileInfo, error) {
	if err := checkCaptureName(prefix + "x"); err != nil {
		return nil, err
	}
	files, err := r.store.List(ctx, prefix)
	if err != nil {
		return nil, fmt.Errorf("list %s in %s: %w", prefix, r.store.Location(), err)
	}
	return files, nil
}

// DeleteCaptureFile removes a segment of the capture log; a missing file
// is not an error.
func (r *Repository) DeleteCaptureFile(ctx context.Context, name string) error {
	if err := checkCaptureName(name); err != nil {
		return err
	}
	if err := r.store.Delete(ctx, name); err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("delete %s: %w", name, err)
	}
	return nil
}
