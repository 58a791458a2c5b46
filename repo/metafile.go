package repo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// metaPrefixes are the folders whose small files callers outside this
// package may write and read through WriteMetaFile, ReadMetaFile and
// ListMetaFiles: the audit trail, and the guard's trash index.
var metaPrefixes = []string{"audit/", "guard/"}

// checkMetaName refuses names outside the folders callers may write, so
// that these methods never reach a backup's files, locks or descriptor.
func checkMetaName(name string) error {
	for _, p := range metaPrefixes {
		if strings.HasPrefix(name, p) && len(name) > len(p) && !strings.Contains(name[len(p):], "..") {
			return nil
		}
	}
	return fmt.Errorf("repository file %q: only files under %s may be written this way", name, strings.Join(metaPrefixes, ", "))
}

// WriteMetaFile stores a small file that belongs to the repository rather
// than to one backup (an audit entry). Like every file the repository
// writes, it gets the repository's object-lock retention when one is set.
// Any encryption of the repository applies here too, so that callers never
// write such files to the store beneath it.
func (r *Repository) WriteMetaFile(ctx context.Context, name string, data []byte) error {
	if err := checkMetaName(name); err != nil {
		return err
	}
	data, err := r.sealMeta(data)
	if err != nil {
		return fmt.Errorf("encrypt %s: %w", name, err)
	}
	return r.putWhole(ctx, name, data)
}

// putWhole stores data, already in its stored form, as the file name
// (under the repository's object-lock retention, if it has one).
func (r *Repository) putWhole(ctx context.Context, name string, data []byte) error {
	if err := r.store.Put(r.retained(ctx), name, bytes.NewReader(data)); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}

// readWhole returns the stored bytes of the file name; a missing file
// answers an error wrapping ErrNotFound.
func (r *Repository) readWhole(ctx context.Context, name string) ([]byte, error) {
	rc, err := r.store.Open(ctx, name)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return data, nil
}

// ReadMetaFile returns a small file written with WriteMetaFile; a missing
// file answers an error wrapping ErrNotFound, and in an encrypted
// repository without its key a *KeyError.
func (r *Repository) ReadMetaFile(ctx context.Context, name string) ([]byte, error) {
	if err := checkMetaName(name); err != nil {
		return nil, err
	}
	data, err := r.readWhole(ctx, name)
	if err != nil {
		return nil, err
	}
	return r.openMeta(name, data)
}

// sealMeta returns the stored form of a meta file: the data itself, or in
// an encrypted repository a record whose whole content is sealed (meta
// files such as audit entries name collections).
func (r *Repository) sealMeta(data []byte) ([]byte, error) {
	if r.crypt == nil {
		return data, nil
	}
	sealed, err := r.sealBytes(data) // as they are: callers may hash them
	if err != nil {
		return nil, err
	}
	return json.MarshalIndent(record{Encrypted: 1, Public: json.RawMessage("{}"), Sealed: sealed}, "", "  ")
}

// openMeta returns the content of a stored meta file; in an encrypted
// repository it needs the key.
func (r *Repository) openMeta(name string, data []byte) ([]byte, error) {
	if r.crypt == nil {
		return data, nil
	}
	if err := r.needKey("reading " + name); err != nil {
		return nil, err
	}
	_, plain, err := r.openRecord(name, data, nil)
	return plain, err
}

// ListMetaFiles lists the files under prefix (one of the folders
// WriteMetaFile writes, such as "audit/"), sorted by name.
func (r *Repository) ListMetaFiles(ctx context.Context, prefix string) ([]FileInfo, error) {
	if err := checkMetaName(prefix + "x"); err != nil {
		return nil, err
	}
	files, err := r.store.List(ctx, prefix)
	if err != nil {
		return nil, fmt.Errorf("list %s in %s: %w", prefix, r.store.Location(), err)
	}
	return files, nil
}

// DeleteMetaFile removes a file written with WriteMetaFile (a trash record
// of the guard, once its collection is restored or purged). Removing a
// missing file is not an error.
func (r *Repository) DeleteMetaFile(ctx context.Context, name string) error {
	if err := checkMetaName(name); err != nil {
		return err
	}
	if err := r.store.Delete(ctx, name); err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("delete %s: %w", name, err)
	}
	return nil
}
