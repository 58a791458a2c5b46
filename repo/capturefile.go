package repo

import (
	"bytes"
	"context"
	"crypto/sha256"
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
	data, err := r.sealCapture(name, data)
	if err != nil {
		return err
	}
	return r.putWhole(ctx, name, data)
}

// sealCapture checks a capture file's name and encrypts its bytes in an
// encrypted repository.
func (r *Repository) sealCapture(name string, data []byte) ([]byte, error) {
	if err := checkCaptureName(name); err != nil {
		return nil, err
	}
	if r.crypt == nil {
		return data, nil
	}
	sealed, err := r.sealBytes(data)
	if err != nil {
		return nil, fmt.Errorf("encrypt %s: %w", name, err)
	}
	return sealed, nil
}

// PutCaptureState stores a small state file of the capture log that is
// rewritten in place (a guard's heartbeat, a prune mark): encrypted like a
// segment, but without the object lock's retention, which would keep every
// rewrite as a locked version (or, on a local store, make the file
// read-only, so that the next rewrite fails).
func (r *Repository) PutCaptureState(ctx context.Context, name string, data []byte) error {
	data, err := r.sealCapture(name, data)
	if err != nil {
		return err
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

// CopyCaptureFile copies the capture file name from src to r as it is
// stored (ciphertext stays ciphertext: CheckCopy's rules apply), then
// checks that r holds the same bytes: it reads them back and compares
// their SHA-256 or, with skipReadBack, compares the stored size. It
// returns the bytes copied.
func (r *Repository) CopyCaptureFile(ctx context.Context, src *Repository, name string, skipReadBack bool) (int64, error) {
	if err := checkCaptureName(name); err != nil {
		return 0, err
	}
	if err := CheckCopy(src, r); err != nil {
		return 0, err
	}
	data, err := src.readWhole(ctx, name)
	if err != nil {
		return 0, fmt.Errorf("read %s from the source: %w", name, err)
	}
	if err := r.putWhole(ctx, name, data); err != nil {
		return 0, err
	}
	if err := r.confirmCaptureFile(ctx, name, data, skipReadBack); err != nil {
		return 0, err
	}
	return int64(len(data)), nil
}

func (r *Repository) confirmCaptureFile(ctx context.Context, name string, want []byte, sizeOnly bool) error {
	if sizeOnly {
		fi, err := r.store.Stat(ctx, name)
		if err == nil && fi.Size != int64(len(want)) {
			err = fmt.Errorf("it has %d bytes, expected %d", fi.Size, len(want))
		}
		if err != nil {
			return fmt.Errorf("confirm %s at the destination: %w", name, err)
		}
		return nil
	}
	got, err := r.readWhole(ctx, name)
	if err == nil && sha256.Sum256(got) != sha256.Sum256(want) {
		err = errors.New("its SHA-256 differs from the source's")
	}
	if err != nil {
		return fmt.Errorf("read back %s from the destination: %w", name, err)
	}
	return nil
}
