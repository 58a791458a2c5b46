package repo

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path"
	"strconv"
	"strings"

	"filippo.io/age"

	"github.com/milvault/milvault/checksum"
	"github.com/milvault/milvault/internal/ctxio"
	"github.com/milvault/milvault/manifest"
)

// Blob is what PutBlob stored or found.
type Blob struct {
	// File is the manifest entry: the stored name, and the size and
	// SHA-256 digest of the stored bytes (in an encrypted repository those
	// of the ciphertext, so that `verify --mode checksum` needs no key).
	File manifest.File
	// Content is the size of the bytes read from src (before encryption).
	Content int64
	// Stored is false when a file holding the same content was already
	// stored and nothing new was written.
	Stored bool
}

// blobCopyBuffer is the buffer PutBlob copies a blob through.
const blobCopyBuffer = 1 << 20

// PutBlob stores the bytes of src as a content-addressed file (see
// manifest.BlobPath), shared by every backup that holds the same bytes.
// The bytes are spooled (under spoolDir; "" means the repository's own
// spool directory, else the system's) while they are hashed, so the name is
// known before anything is stored. The name is the SHA-256 digest of the
// content, or in an encrypted repository a keyed digest of it (see
// blobName), and the file is encrypted like every data file. When a file of
// that name is already stored, nothing is written. In a repository with an
// object lock the file is stored under its retention, and a file found
// whose retention has ended is stored again (the same bytes) under a new
// one. Like a data file, a blob belongs to no backup until a committed
// manifest names it; CollectBlobs removes it otherwise.
func (r *Repository) PutBlob(ctx context.Context, src io.Reader, spoolDir string) (Blob, error) {
	var b Blob
	if err := r.needKey("a native backup (segment files are named with a key derived from it)"); err != nil {
		return b, err
	}
	if spoolDir == "" {
		spoolDir = r.spoolDir(ctx)
	}
	spool, err := os.CreateTemp(spoolDir, spoolPattern)
	if err != nil {
		return b, fmt.Errorf("spool a segment file: %w", err)
	}
	defer func() { spool.Close(); os.Remove(spool.Name()) }()
	h := sha256Writer(spool)
	// Segment files are megabytes: large reads and writes take a fraction
	// of the system calls io.Copy's 32 KiB buffer would.
	if _, err := io.CopyBuffer(h, ctxio.Reader(ctx, src), make([]byte, blobCopyBuffer)); err != nil {
		return b, err
	}
	_, sum, _ := checksum.ParseDigest(h.Digest())
	b.Content = h.Count()
	name := r.blobName(sum)
	if _, err := spool.Seek(0, io.SeekStart); err != nil {
		return b, fmt.Errorf("write %s: %w", name, err)
	}
	if r.crypt != nil {
		return r.putSealedBlob(ctx, b, name, spool, spoolDir)
	}
	b.File = manifest.File{Path: name, Size: h.Count(), Checksum: h.Digest()}
	fi, err := r.store.Stat(ctx, name)
	if err == nil && fi.Size == b.File.Size && !r.RetentionEnded(fi) {
		return b, nil
	}
	b.Stored = err != nil || fi.Size != b.File.Size
	if err := r.store.Put(r.retained(ctx), name, spool); err != nil {
		return b, err
	}
	return b, nil
}

// putSealedBlob stores the plaintext in spool encrypted as name, or
// returns the entry of the file stored under that name before.
func (r *Repository) putSealedBlob(ctx context.Context, b Blob, name string, spool io.Reader, spoolDir string) (Blob, error) {
	if fi, err := r.store.Stat(ctx, name); err == nil && fi.Size > 0 {
		var err error
		b.File, err = r.keepBlob(ctx, name, spoolDir, r.RetentionEnded(fi))
		return b, err
	}
	w, err := r.CreateFile(ctx, name, checksum.SHA256, spoolDir)
	if err != nil {
		return b, err
	}
	defer w.Abort()
	if _, err := io.Copy(w, spool); err != nil {
		return b, fmt.Errorf("write %s: %w", name, err)
	}
	b.File, err = w.Commit(ctx)
	b.Stored = err == nil
	return b, err
}

// keepBlob returns the manifest entry of the stored file name, hashing its
// stored bytes; with refresh it stores the same bytes again under the
// repository's retention (an encrypted file cannot be written anew: other
// manifests name the digest of its ciphertext).
func (r *Repository) keepBlob(ctx context.Context, name, spoolDir string, refresh bool) (manifest.File, error) {
	rc, err := r.store.Open(ctx, name)
	if err != nil {
		return manifest.File{}, err
	}
	defer rc.Close()
	if !refresh {
		h := sha256Writer(nil)
		if _, err := io.Copy(h, ctxio.Reader(ctx, rc)); err != nil {
			return manifest.File{}, fmt.Errorf("read %s: %w", name, err)
		}
		return manifest.File{Path: name, Size: h.Count(), Checksum: h.Digest()}, nil
	}
	w, err := r.createSpool(ctx, name, checksum.SHA256, spoolDir)
	if err != nil {
		return manifest.File{}, err
	}
	defer w.Abort()
	if _, err := io.Copy(w, ctxio.Reader(ctx, rc)); err != nil {
		return manifest.File{}, fmt.Errorf("read %s: %w", name, err)
	}
	return w.Commit(ctx)
}

// blobName is the store name of the content whose SHA-256 digest is sum:
// manifest.BlobPath of the digest, or in an encrypted repository of
// HMAC-SHA256(naming key, sum), so that a name does not let anyone without
// the key confirm that the repository holds a known file.
func (r *Repository) blobName(sum []byte) string {
	if r.crypt == nil {
		return manifest.BlobPath(hex.EncodeToString(sum))
	}
	return manifest.BlobPath(hex.EncodeToString(r.keyed("blob", sum)))
}

// keyed returns HMAC-SHA256 of purpose and data under the repository's
// naming key, which is derived from its identity: every key of the
// repository (they all open the same identity) gives the same names.
func (r *Repository) keyed(purpose string, data []byte) []byte {
	k := sha256.Sum256([]byte("milvault naming key v1\x00" + r.crypt.identity.(*age.X25519Identity).String()))
	mac := hmac.New(sha256.New, k[:])
	mac.Write([]byte(purpose + "\x00"))
	mac.Write(data)
	return mac.Sum(nil)
}

// RetentionEnded reports whether the stored file fi is in a repository
// with an object lock and its retention (counted from when it was
// written) has ended, so that a new backup referencing it must store it
// again to have it protected.
func (r *Repository) RetentionEnded(fi FileInfo) bool {
	ol := r.cfg.ObjectLock
	return ol != nil && !fi.ModTime.Add(ol.Retention()).After(r.now())
}

// retainedNow reports whether the stored file fi is still under the
// repository's object lock.
func (r *Repository) retainedNow(fi FileInfo) bool {
	return r.cfg.ObjectLock != nil && !r.RetentionEnded(fi)
}

func sha256Writer(w io.Writer) *checksum.Writer { return checksum.NewWriter(w, checksum.SHA256) }

// BlobsCollected reports what CollectBlobs removed, and what it kept
// because the repository's object lock still protects it.
type BlobsCollected struct {
	Files int
	Bytes int64
	// Kept counts unreferenced files whose retention has not ended: they
	// are left in place and a later run, after their retention, removes
	// them.
	Kept      int
	KeptBytes int64
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
// next call removes. A file still under the repository's object lock (one
// an interrupted backup stored) is never attempted: it is counted in Kept
// and removed by a later run, so a collection never stops half-way on a
// retained file. A file a committed backup references is kept whatever
// its retention. In an encrypted repository opened without its key the
// manifests' public parts list their stored files, so a host without the
// key collects correctly too.
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
		if r.retainedNow(b) {
			done.Kept++
			done.KeptBytes += b.Size
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

// sourceHash names an outside object without revealing its name: its
// SHA-256 digest, or in an encrypted repository a keyed digest.
func (r *Repository) sourceHash(source string) string {
	if r.crypt != nil && r.crypt.identity != nil {
		return hex.EncodeToString(r.keyed("source", []byte(source)))
	}
	sum := sha256.Sum256([]byte(source))
	return hex.EncodeToString(sum[:])
}

// RememberSource records, as an empty file, that the content-addressed
// file f holds the bytes of the outside object source (an immutable
// object, named with everything that identifies it). The file is named
// sources/<source hash>-<content hash>-<size>, and in an encrypted
// repository sources/<keyed source hash>-<keyed name>-<size>-<digest of
// the stored ciphertext>, so that it reveals no content digest. A later
// backup, even one resuming a killed run whose manifest was never
// committed, finds f through KnownSources without reading the object
// again. A hint is only a hint: its file may have been collected since.
func (r *Repository) RememberSource(ctx context.Context, source string, f manifest.File) error {
	if err := r.needKey("remembering a segment file's source"); err != nil {
		return err
	}
	_, sum, err := checksum.ParseDigest(f.Checksum)
	if err != nil || !strings.HasPrefix(f.Checksum, string(checksum.SHA256)+":") || !strings.HasPrefix(f.Path, manifest.BlobPrefix) {
		return fmt.Errorf("remember source of %s: not a content-addressed file", f.Path)
	}
	name := fmt.Sprintf("%s%s-%s-%d", sourcePrefix, r.sourceHash(source), path.Base(f.Path), f.Size)
	if r.crypt != nil {
		name += "-" + hex.EncodeToString(sum)
	}
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
func (r *Repository) SourceKey(source string) string { return r.sourceHash(source) }

// parseHint reads sources/<source hash>-<name>-<size>[-<stored digest>]:
// without a stored digest the name is the content's digest.
func parseHint(name string) (string, manifest.File, bool) {
	parts := strings.Split(strings.TrimPrefix(name, sourcePrefix), "-")
	if len(parts) < 3 || len(parts) > 4 || len(parts[1]) != 64 {
		return "", manifest.File{}, false
	}
	size, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil {
		return "", manifest.File{}, false
	}
	digest := parts[1]
	if len(parts) == 4 {
		if len(parts[3]) != 64 {
			return "", manifest.File{}, false
		}
		digest = parts[3]
	}
	return parts[0], manifest.File{Path: manifest.BlobPath(parts[1]), Size: size, Checksum: string(checksum.SHA256) + ":" + digest}, true
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

// ListBlobs returns the stored content-addressed files by name, with one
// listing of the store: a native backup checks the files it means to
// reference against it instead of asking for each one.
func (r *Repository) ListBlobs(ctx context.Context) (map[string]FileInfo, error) {
	files, err := r.store.List(ctx, manifest.BlobPrefix)
	if err != nil {
		return nil, fmt.Errorf("list segment files in %s: %w", r.store.Location(), err)
	}
	out := make(map[string]FileInfo, len(files))
	for _, f := range files {
		out[f.Name] = f
	}
	return out, nil
}
