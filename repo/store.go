// Package repo defines where backups live: a small Store interface in the
// words of the domain (put, open, stat, list, delete named files) and the
// Repository that lays backups out in a store, commits them by writing their
// manifest last, and trusts nothing else.
package repo

import (
	"context"
	"errors"
	"io"
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

// Store is a flat namespace of files with slash-separated names.
//
// Guarantees every implementation gives:
//   - Put is atomic: a reader sees either the previous content (or
//     ErrNotFound) or the complete new content, never a partial file; a
//     failed or cancelled Put leaves no file under name.
//   - After Put returns nil, Open, Stat and List see the file
//     (read-after-write).
//   - Open and Stat return an error wrapping ErrNotFound for a missing name.
//   - List returns files whose names start with prefix, sorted by name.
//   - Delete of a missing file succeeds.
//
// A caller that passes an *os.File to Put must not change that file
// afterwards: a local store may keep the file itself (a hard link) instead
// of a copy.
type Store interface {
	Put(ctx context.Context, name string, r io.Reader) error
	Open(ctx context.Context, name string) (io.ReadCloser, error)
	Stat(ctx context.Context, name string) (FileInfo, error)
	List(ctx context.Context, prefix string) ([]FileInfo, error)
	Delete(ctx context.Context, name string) error
	// Location describes the store for people (a path or URL without secrets).
	Location() string
}

// LocalPather is implemented by stores whose files are plain local files;
// readers that need random access (Parquet) use the path directly instead of
// spooling a copy.
type LocalPather interface {
	LocalPath(name string) string
}

// PrefixDeleter is implemented by stores that can remove everything under a
// prefix at once, including the temporary objects of interrupted Puts that
// List does not show. Repository uses it to clean up aborted backups.
type PrefixDeleter interface {
	DeleteAll(ctx context.Context, prefix string) error
}

// FolderLister is implemented by stores with real folders; it names the
// folders directly under prefix, even those holding only temporary files.
type FolderLister interface {
	Folders(ctx context.Context, prefix string) ([]string, error)
}

// FreeSpacer is implemented by stores that can tell how many bytes they can
// still take (local disks); a backup checks it before it starts.
type FreeSpacer interface {
	FreeSpace() (int64, error)
}
