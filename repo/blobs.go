package repo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/milvault/milvault/checksum"
	"github.com/milvault/milvault/internal/ctxio"
	"github.com/milvault/milvault/manifest"
)

// PutBlob stores the bytes of src as a content-addressed file (see
// manifest.BlobPath), shared by every backup that holds the same bytes, and
// returns its manifest entry with a SHA-256 digest. The bytes are spooled
// (under spoolDir; "" means the repository's own spool directory, else the
// system's) while they are hashed, so the name is known before anything is
// stored. When a file of that name and size is already stored, nothing is
// written and stored is false. Like a data file, a blob belongs to no backup
// until a committed manifest names it; CollectBlobs removes it otherwise.
func (r *Repository) PutBlob(ctx context.Context, src io.Reader, spoolDir string) (f manifest.File, stored bool, err error) {
	if spoolDir == "" {
		spoolDir = r.spoolDir(ctx)
	}
	spool, err := os.CreateTemp(spoolDir, spoolPattern)
	if err != nil {
		return f, false, fmt.Errorf("spool a segment file: %w", err)
	}
	defer func() { spool.Close(); os.Remove(spool.Name()) }()
	h := sha256Writer(spool)
	if _, err := io.Copy(h, ctxio.Reader(ctx, src)); err != nil {
		return f, false, err
	}
	f = manifest.File{Size: h.Count(), Checksum: h.Digest()}
	_, sum, _ := checksum.ParseDigest(f.Checksum)
	f.Path = manifest.BlobPath(hex.EncodeToString(sum))
	if fi, err := r.store.Stat(ctx, f.Path); err == nil && fi.Size == f.Size {
		return f, false, nil
	}
	if _, err := spool.Seek(0, io.SeekStart); err != nil {
		return f, false, fmt.Errorf("write %s: %w", f.Path, err)
	}
	if err := r.store.Put(ctx, f.Path, spool); err != nil {
		return f, false, err
	}
	return f, true, nil
}

func sha256Writer(w io.Writer) *checksum.Writer { return checksum.NewWriter(w, checksum.SHA256) }

// BlobsCollected reports what CollectBlobs removed.
type BlobsCollected struct {
	Files int
	Bytes int64
}

// UnreadableManifestsError stops CollectBlobs: a manifest that cannot be
// read may reference files, so none is removed until it is repaired or
// deleted.
type UnreadableManifestsError struct{ Problems []error }

func (e *UnreadableManifestsError) Error() string {
	return fmt.Sprintf("kept every content-addressed file: %d manifest(s) cannot be read (first: %v); repair or delete them, then run prune or delete again", len(e.Problems), e.Problems[0])
}

// CollectBlobs removes the content-addressed files that no committed
// manifest references: those of deleted backups and those an interrupted
// backup stored before it was killed. It needs held, an exclusive lock on
// r, because a running backup (under a shared lock) may have stored files
// its manifest does not yet name. It removes nothing when any manifest
// cannot be read. A kill part-way leaves only unreferenced files, which the
// next call removes.
func (r *Repository) CollectBlobs(ctx context.Context, held *Lock) (BlobsCollected, error) {
	var done BlobsCollected
	if err := held.check(r, true); err != nil {
		return done, fmt.Errorf("collect unreferenced segment files: %w", err)
	}
	blobs, err := r.store.List(ctx, manifest.BlobPrefix)
	if err != nil || len(blobs) == 0 {
		return done, err
	}
	used, err := r.referencedBlobs(ctx)
	if err != nil {
		return done, err
	}
	// Hints first: a hint never names a file that is gone.
	if err := r.collectHints(ctx, used); err != nil {
		return done, fmt.Errorf("collect unreferenced segment files: %w", err)
	}
	for _, b := range blobs {
		if used[b.Name] {
			continue
		}
		if err := r.store.Delete(ctx, b.Name); err != nil {
			return done, fmt.Errorf("collect unreferenced segment files: %w", err)
		}
		done.Files++
		done.Bytes += b.Size
	}
	return done, nil
}

// referencedBlobs returns the content-addressed files every committed
// manifest names.
func (r *Repository) referencedBlobs(ctx context.Context) (map[string]bool, error) {
	ms, problems, err := r.List(ctx)
	if err != nil {
		return nil, err
	}
	if len(problems) > 0 {
		return nil, &UnreadableManifestsError{Problems: problems}
	}
	used := map[string]bool{}
	for _, m := range ms {
		for _, f := range m.Files() {
			if strings.HasPrefix(f.Path, manifest.BlobPrefix) {
				used[f.Path] = true
			}
		}
	}
	return used, nil
}

// sourcePrefix holds source hints: empty files whose names say that a
// content-addressed file holds the bytes of some object outside the
// repository (see RememberSource).
const sourcePrefix = "sources/"

// sourceHash names an outside object without revealing its name.
func sourceHash(source string) string {
	sum := sha256.Sum256([]byte(source))
	return hex.EncodeToString(sum[:])
}

// RememberSource records, as an empty file named
// sources/<sha256 of source>-<sha256 of content>-<size>, that the
// content-addressed file f holds the bytes of the outside object source
// (an immutable object, named with everything that identifies it). A later
// backup, even one resuming a killed run whose manifest was never
// committed, finds f through KnownSources without reading the object
// again. A hint is only a hint: its file may have been collected since.
func (r *Repository) RememberSource(ctx context.Context, source string, f manifest.File) error {
	_, sum, err := checksum.ParseDigest(f.Checksum)
	if err != nil || !strings.HasPrefix(f.Checksum, string(checksum.SHA256)+":") {
		return fmt.Errorf("remember source of %s: not a content-addressed file", f.Path)
	}
	name := fmt.Sprintf("%s%s-%s-%d", sourcePrefix, sourceHash(source), hex.EncodeToString(sum), f.Size)
	return r.store.Put(ctx, name, strings.NewReader(""))
}

// KnownSources returns the files RememberSource recorded, by the outside
// object's name as SourceKey computes it from source.
func (r *Repository) KnownSources(ctx context.Context) (map[string]manifest.File, error) {
	hints, err := r.store.List(ctx, sourcePrefix)
	if err != nil {
		return nil, fmt.Errorf("list source hints: %w", err)
	}
	out := map[string]manifest.File{}
	for _, h := range hints {
		src, f, ok := parseHint(h.Name)
		if ok {
			out[src] = f
		}
	}
	return out, nil
}

// SourceKey is the key of KnownSources for the outside object source.
func SourceKey(source string) string { return sourceHash(source) }

// parseHint reads sources/<source hash>-<content hash>-<size>.
func parseHint(name string) (string, manifest.File, bool) {
	parts := strings.Split(strings.TrimPrefix(name, sourcePrefix), "-")
	if len(parts) != 3 || len(parts[1]) != 64 {
		return "", manifest.File{}, false
	}
	size, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil {
		return "", manifest.File{}, false
	}
	return parts[0], manifest.File{Path: manifest.BlobPath(parts[1]), Size: size, Checksum: string(checksum.SHA256) + ":" + parts[1]}, true
}

// collectHints removes the source hints whose file is not in keep.
func (r *Repository) collectHints(ctx context.Context, keep map[string]bool) error {
	hints, err := r.store.List(ctx, sourcePrefix)
	if err != nil {
		return err
	}
	for _, h := range hints {
		if _, f, ok := parseHint(h.Name); ok && keep[f.Path] {
			continue
		}
		if err := r.store.Delete(ctx, h.Name); err != nil {
			return err
		}
	}
	return nil
}
