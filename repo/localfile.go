package repo

import (
	"context"
	"fmt"
	"io"
	"os"
)

// OpenLocalFile returns a random-access file with the content of a stored
// file (Parquet readers need random access): the file itself for stores
// with local files, else a temporary copy in tempDir ("" means the system
// default) that cleanup removes. cleanup is always safe to call.
func OpenLocalFile(ctx context.Context, s Store, name, tempDir string) (f *os.File, cleanup func(), err error) {
	if lp, ok := s.(LocalPather); ok {
		f, err := os.Open(lp.LocalPath(name))
		if err != nil {
			return nil, func() {}, err
		}
		return f, func() { f.Close() }, nil
	}
	rc, err := s.Open(ctx, name)
	if err != nil {
		return nil, func() {}, err
	}
	defer rc.Close()
	tmp, err := os.CreateTemp(tempDir, "milvault-*.parquet")
	if err != nil {
		return nil, func() {}, fmt.Errorf("spool %s to a temporary file: %w", name, err)
	}
	cleanup = func() { tmp.Close(); os.Remove(tmp.Name()) }
	if _, err := io.Copy(tmp, rc); err != nil {
		cleanup()
		return nil, func() {}, fmt.Errorf("spool %s to %s: %w", name, tmp.Name(), err)
	}
	return tmp, cleanup, nil
}
