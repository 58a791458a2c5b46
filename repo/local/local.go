// Package local stores repository files in a directory of the local file
// system.
package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/milvault/milvault/internal/ctxio"
	"github.com/milvault/milvault/repo"
)

var _ repo.Store = (*Store)(nil)

// Store keeps files under a root directory. Put writes to a temporary file in
// the target directory, syncs it and renames it into place, so a crash never
// leaves a partial file under its final name.
type Store struct {
	root string
}

// New returns a store rooted at dir. The directory is created on the first
// Put; New fails only when dir exists and is not a directory.
func New(dir string) (*Store, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("repository path %q: %w", dir, err)
	}
	if fi, err := os.Stat(abs); err == nil && !fi.IsDir() {
		return nil, fmt.Errorf("repository path %s is a file, not a directory: choose a directory with --repo", abs)
	}
	return &Store{root: abs}, nil
}

// Location returns the root directory.
func (s *Store) Location() string { return s.root }

// localPath returns the file path of name.
func (s *Store) localPath(name string) string {
	return filepath.Join(s.root, filepath.FromSlash(name))
}

func (s *Store) path(name string) (string, error) {
	if name == "" || strings.HasPrefix(name, "/") || strings.Contains(name, "\\") {
		return "", fmt.Errorf("invalid file name %q", name)
	}
	for _, part := range strings.Split(name, "/") {
		if part == "" || part == "." || part == ".." {
			return "", fmt.Errorf("invalid file name %q", name)
		}
	}
	return s.localPath(name), nil
}

// Put writes r to name atomically. A Put whose context carries a retention
// (repo.WithRetain) leaves the file read-only: a local file system has no
// object lock, so the retention is milvault's own (the repository refuses
// to delete the file early) and the read-only mode warns other tools.
func (s *Store) Put(ctx context.Context, name string, r io.Reader) error {
	if err := s.put(ctx, name, r); err != nil {
		return err
	}
	if _, ok := repo.RetainOf(ctx); ok {
		if err := os.Chmod(s.localPath(name), 0o444); err != nil {
			return fmt.Errorf("put %s: make it read-only: %w", name, err)
		}
	}
	return nil
}

// put writes r to name atomically.
//
// When r is an *os.File at offset 0 whose whole content is to be stored, on
// the same file system as the store (a finished spool file: backups spool
// their data files in the repository's directory), the file is synced and
// hard-linked into place instead of copied, which saves reading and writing
// every byte again. Callers must not change such a file after Put (see
// repo.Store). Any other reader, or a link the file system refuses, is
// copied.
func (s *Store) put(ctx context.Context, name string, r io.Reader) error {
	p, err := s.path(name)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("put %s: %w", name, err)
	}
	if f, ok := r.(*os.File); ok {
		if linked, err := linkInto(ctx, f, p); linked || err != nil {
			if err != nil {
				return fmt.Errorf("put %s: %w", name, err)
			}
			return syncDir(filepath.Dir(p))
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".tmp-"+filepath.Base(p)+"-*")
	if err != nil {
		return fmt.Errorf("put %s: %w", name, err)
	}
	if err := writeSync(ctx, tmp, r); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("put %s: %w", name, err)
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("put %s: %w", name, err)
	}
	return syncDir(filepath.Dir(p))
}

// linkInto stores f at p by a hard link under a temporary name, renamed
// into place. It reports false, with no error, when f is not a candidate
// (not at offset 0, its path no longer names it) or the link is refused
// (another file system, no link support): the caller then copies.
func linkInto(ctx context.Context, f *os.File, p string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if off, err := f.Seek(0, io.SeekCurrent); err != nil || off != 0 || !filepath.IsAbs(f.Name()) {
		return false, nil
	}
	byFD, err := f.Stat()
	if err != nil || !byFD.Mode().IsRegular() {
		return false, nil
	}
	if byPath, err := os.Stat(f.Name()); err != nil || !os.SameFile(byFD, byPath) {
		return false, nil
	}
	tmp := filepath.Join(filepath.Dir(p), fmt.Sprintf(".tmp-%s-%d-%p", filepath.Base(p), os.Getpid(), f))
	if err := os.Link(f.Name(), tmp); err != nil {
		return false, nil
	}
	if err := f.Sync(); err != nil {
		os.Remove(tmp)
		return false, err
	}
	if err := os.Rename(tmp, p); err != nil {
		os.Remove(tmp)
		return false, err
	}
	return true, nil
}

func writeSync(ctx context.Context, f *os.File, r io.Reader) error {
	_, err := io.Copy(f, ctxio.Reader(ctx, r))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// syncDir makes a rename durable; file systems that cannot sync a directory
// are tolerated.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return nil
	}
	defer d.Close()
	_ = d.Sync()
	return nil
}

// Open opens name for reading.
func (s *Store) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	p, err := s.path(name)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("open %s: %w", name, repo.ErrNotFound)
	}
	return f, err
}

// OpenRange opens name for reading length bytes from offset (to the end
// when length is negative).
func (s *Store) OpenRange(ctx context.Context, name string, offset, length int64) (io.ReadCloser, error) {
	if offset < 0 {
		return nil, fmt.Errorf("open %s: negative offset %d", name, offset)
	}
	rc, err := s.Open(ctx, name)
	if err != nil {
		return nil, err
	}
	f := rc.(*os.File)
	if length < 0 {
		length = math.MaxInt64 - offset
	}
	return struct {
		io.Reader
		io.Closer
	}{io.NewSectionReader(f, offset, length), f}, nil
}

// Stat describes name.
func (s *Store) Stat(ctx context.Context, name string) (repo.FileInfo, error) {
	p, err := s.path(name)
	if err != nil {
		return repo.FileInfo{}, err
	}
	fi, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) || (err == nil && fi.IsDir()) {
		return repo.FileInfo{}, fmt.Errorf("stat %s: %w", name, repo.ErrNotFound)
	}
	if err != nil {
		return repo.FileInfo{}, err
	}
	return repo.FileInfo{Name: name, Size: fi.Size(), ModTime: fi.ModTime()}, nil
}

// List returns the files whose names start with prefix, sorted by name.
// Temporary files of Puts in progress are not listed.
func (s *Store) List(ctx context.Context, prefix string) ([]repo.FileInfo, error) {
	var out []repo.FileInfo
	err := filepath.WalkDir(s.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() || strings.HasPrefix(d.Name(), ".tmp-") {
			return nil
		}
		rel, _ := filepath.Rel(s.root, p)
		name := filepath.ToSlash(rel)
		if !strings.HasPrefix(name, prefix) {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return nil // removed while listing
		}
		out = append(out, repo.FileInfo{Name: name, Size: fi.Size(), ModTime: fi.ModTime()})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", s.root, err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Delete removes name and any directories it leaves empty.
func (s *Store) Delete(ctx context.Context, name string) error {
	p, err := s.path(name)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete %s: %w", name, err)
	}
	for dir := filepath.Dir(p); dir != s.root && strings.HasPrefix(dir, s.root); dir = filepath.Dir(dir) {
		if os.Remove(dir) != nil {
			break
		}
	}
	return nil
}

// DeleteAll removes the folder prefix (which must end in "/") with
// everything in it, including temporary files of interrupted Puts.
func (s *Store) DeleteAll(ctx context.Context, prefix string) error {
	if !strings.HasSuffix(prefix, "/") {
		return fmt.Errorf("delete %s: prefix must name a folder (end in /)", prefix)
	}
	p, err := s.path(strings.TrimSuffix(prefix, "/"))
	if err != nil {
		return err
	}
	if err := os.RemoveAll(p); err != nil {
		return fmt.Errorf("delete %s: %w", prefix, err)
	}
	return nil
}

// Folders returns the names of the folders directly under prefix.
func (s *Store) Folders(ctx context.Context, prefix string) ([]string, error) {
	p, err := s.path(strings.TrimSuffix(prefix, "/"))
	if err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", prefix, err)
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

// FreeSpace returns the bytes available to this process on the file system
// that holds the repository (or the nearest existing parent directory).
func (s *Store) FreeSpace(ctx context.Context) (int64, error) {
	dir := s.root
	for {
		var st syscall.Statfs_t
		err := syscall.Statfs(dir, &st)
		if err == nil {
			return int64(st.Bavail) * int64(st.Bsize), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir || !errors.Is(err, syscall.ENOENT) {
			return 0, err
		}
		dir = parent
	}
}

// SpoolDir returns the root directory, created if need be: a file prepared
// there is on the store's file system, so Put links it instead of copying.
func (s *Store) SpoolDir(ctx context.Context) (string, error) {
	if err := os.MkdirAll(s.root, 0o755); err != nil {
		return "", fmt.Errorf("spool directory %s: %w", s.root, err)
	}
	return s.root, nil
}
