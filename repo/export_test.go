package repo

import "context"

// OpenPlain exposes to the package's external tests the random access to a
// stored file's content that EachRecord gives the Parquet reader.
func OpenPlain(ctx context.Context, r *Repository, name string) (interface {
	ReadAt([]byte, int64) (int, error)
	Read([]byte) (int, error)
}, error) {
	file, err := r.openRandom(ctx, name)
	if err != nil {
		return nil, err
	}
	return r.openPlain(file)
}
