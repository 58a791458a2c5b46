// Package repo defines where backups live: a small Store interface in the
// words of the domain (put, open, stat, list, delete named files) and the
// Repository that lays backups out in a store, writes and reads their data
// files (checked against the manifest on the way), commits them by writing
// their manifest last, and trusts nothing else. Callers go through the
// Repository, never the store beneath it, so that whatever wraps the store
// (limits, logging, retries, fault injection) sees every byte.
//
// The Repository also encrypts (docs/encryption.md): in a repository made
// by InitEncrypted every file it writes passes seal (data files through
// CreateFile, small JSON documents through putRecord) and every file it
// reads passes unseal, with filippo.io/age, so stores never see plaintext
// and a file type added later through those methods is covered too.
package repo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// ErrNotFound is returned (possibly wrapped) by Store methods when the named
// file does not exist.
var ErrNotFound = errors.New("not found")

// FileInfo describes one stored file.
type FileInfo struct {
	Name    string // slash-separated name relative to the store root
	Size    int64
	ModTime time.Time
}

// ErrUnsupported is returned (possibly wrapped) by a Store method that the
// store cannot carry out, such as FreeSpace on an object store.
var ErrUnsupported = errors.New("not supported by this store")

// Store is a flat namespace of files with slash-separated names. Every
// store has every method; one that cannot do something answers an error
// wrapping ErrUnsupported, so that a wrapper (retry, limit, logged, faulty)
// is one embedded Store plus the methods it acts on.
//
// Guarantees every implementation gives:
//   - Put is atomic: a reader sees either the previous content (or
//     ErrNotFound) or the complete new content, never a partial file; a
//     failed or cancelled Put leaves no file under name.
//   - After Put returns nil, Open, OpenRange, Stat and List see the file
//     (read-after-write).
//   - Open, OpenRange and Stat return an error wrapping ErrNotFound for a
//     missing name.
//   - List returns files whose names start with prefix, sorted by name.
//   - Delete of a missing file succeeds.
//
// A caller that passes an *os.File to Put must not change that file
// afterwards: a local store may keep the file itself (a hard link) instead
// of a copy.
type Store interface {
	Put(ctx context.Context, name string, r io.Reader) error
	Open(ctx context.Context, name string) (io.ReadCloser, error)
	// OpenRange reads length bytes of name from offset on (to the end when
	// length is negative); a range past the end of the file is cut short.
	OpenRange(ctx context.Context, name string, offset, length int64) (io.ReadCloser, error)
	Stat(ctx context.Context, name string) (FileInfo, error)
	List(ctx context.Context, prefix string) ([]FileInfo, error)
	Delete(ctx context.Context, name string) error
	// DeleteAll removes everything under prefix (a folder ending in "/"),
	// including the temporary files of interrupted Puts that List does not
	// show.
	DeleteAll(ctx context.Context, prefix string) error
	FolderLister
	// FreeSpace returns how many bytes the store can still take, or
	// ErrUnsupported when it cannot tell (object stores).
	FreeSpace(ctx context.Context) (int64, error)
	// SpoolDir names a local directory on the store's own file system where
	// a file can be prepared so that Put takes it without a copy (a hard
	// link), or answers ErrUnsupported when the store keeps no local files.
	SpoolDir(ctx context.Context) (string, error)
	// Location describes the store for people (a path or URL without secrets).
	Location() string
}

// FolderLister names the folders directly under prefix, even those holding
// only temporary files. Every Store is one; stores without real folders
// derive them from the names of their files.
type FolderLister interface {
	Folders(ctx context.Context, prefix string) ([]string, error)
}

// FoldersOf returns the distinct first folder names after prefix among
// files (which List sorted by name); stores without real folders
// implement Folders with it.
func FoldersOf(files []FileInfo, prefix string) []string {
	var out []string
	for _, f := range files {
		dir, _, ok := strings.Cut(strings.TrimPrefix(f.Name, prefix), "/")
		if ok && dir != "" && (len(out) == 0 || out[len(out)-1] != dir) {
			out = append(out, dir)
		}
	}
	return out
}

// NoLocalFiles gives the answers of a store that keeps no local files
// (memory, object stores): FreeSpace and SpoolDir answer ErrUnsupported.
// Such stores embed it.
type NoLocalFiles struct{}

// FreeSpace answers ErrUnsupported.
func (NoLocalFiles) FreeSpace(context.Context) (int64, error) {
	return 0, fmt.Errorf("free space: %w", ErrUnsupported)
}

// SpoolDir answers ErrUnsupported.
func (NoLocalFiles) SpoolDir(context.Context) (string, error) {
	return "", fmt.Errorf("spool directory: %w", ErrUnsupported)
}
