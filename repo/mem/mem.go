// Package mem is an in-memory Store for tests.
package mem

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/milvault/milvault/repo"
)

var _ repo.Store = (*Store)(nil)

// Store keeps files in a map.
type Store struct {
	repo.NoLocalFiles
	mu    sync.Mutex
	files map[string]memFile
}

type memFile struct {
	data  []byte
	mod   time.Time
	until time.Time // retention (repo.WithRetain): Delete refuses before
}

// New returns an empty store.
func New() *Store { return &Store{files: map[string]memFile{}} }

// Location names the store.
func (s *Store) Location() string { return "mem://" }

// Put reads r fully, then stores it.
func (s *Store) Put(ctx context.Context, name string, r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("put %s: %w", name, err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.files[name]; ok && time.Now().Before(old.until) {
		return fmt.Errorf("put %s: %w", name, &RetainedError{Name: name, Until: old.until})
	}
	rt, _ := repo.RetainOf(ctx)
	s.files[name] = memFile{data: data, mod: time.Now(), until: rt.Until}
	return nil
}

// Open returns a reader over a copy-free view of name.
func (s *Store) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.files[name]
	if !ok {
		return nil, fmt.Errorf("open %s: %w", name, repo.ErrNotFound)
	}
	return io.NopCloser(bytes.NewReader(f.data)), nil
}

// Stat describes name.
func (s *Store) Stat(ctx context.Context, name string) (repo.FileInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.files[name]
	if !ok {
		return repo.FileInfo{}, fmt.Errorf("stat %s: %w", name, repo.ErrNotFound)
	}
	return repo.FileInfo{Name: name, Size: int64(len(f.data)), ModTime: f.mod}, nil
}

// List returns files under prefix sorted by name.
func (s *Store) List(ctx context.Context, prefix string) ([]repo.FileInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []repo.FileInfo
	for name, f := range s.files {
		if strings.HasPrefix(name, prefix) {
			out = append(out, repo.FileInfo{Name: name, Size: int64(len(f.data)), ModTime: f.mod})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Delete removes name. Like S3 Object Lock, it refuses a file whose
// retention has not ended.
func (s *Store) Delete(ctx context.Context, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f, ok := s.files[name]; ok && time.Now().Before(f.until) {
		return fmt.Errorf("delete %s: %w", name, &RetainedError{Name: name, Until: f.until})
	}
	delete(s.files, name)
	return nil
}

// RetainedError is the answer to deleting or replacing a file under
// retention.
type RetainedError struct {
	Name  string
	Until time.Time
}

func (e *RetainedError) Error() string {
	return fmt.Sprintf("%s is retained until %s", e.Name, e.Until.UTC().Format(time.RFC3339))
}

// OpenRange returns a reader over length bytes of name from offset (to the
// end when length is negative).
func (s *Store) OpenRange(ctx context.Context, name string, offset, length int64) (io.ReadCloser, error) {
	if offset < 0 {
		return nil, fmt.Errorf("open %s: negative offset %d", name, offset)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.files[name]
	if !ok {
		return nil, fmt.Errorf("open %s: %w", name, repo.ErrNotFound)
	}
	data := f.data[min(offset, int64(len(f.data))):]
	if length >= 0 && length < int64(len(data)) {
		data = data[:length]
	}
	return io.NopCloser(bytes.NewReader(data)), nil
}

// DeleteAll removes every file under prefix.
func (s *Store) DeleteAll(ctx context.Context, prefix string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for name, f := range s.files {
		if strings.HasPrefix(name, prefix) && time.Now().Before(f.until) {
			return fmt.Errorf("delete %s: %w", prefix, &RetainedError{Name: name, Until: f.until})
		}
	}
	for name := range s.files {
		if strings.HasPrefix(name, prefix) {
			delete(s.files, name)
		}
	}
	return nil
}

// Folders returns the first path segments after prefix of the files under
// it that lie in a folder.
func (s *Store) Folders(ctx context.Context, prefix string) ([]string, error) {
	files, err := s.List(ctx, prefix)
	if err != nil {
		return nil, err
	}
	return repo.FoldersOf(files, prefix), nil
}
