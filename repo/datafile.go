package repo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/milvault/milvault/checksum"
	"github.com/milvault/milvault/internal/ctxio"
	"github.com/milvault/milvault/manifest"
)

// spoolPattern names the spool files of data files being written. In a
// local repository they lie in its root, where List does not show them.
const spoolPattern = ".tmp-milvault-chunk-*.parquet"

// FileWriter writes one data file of a backup. The bytes go to a local
// spool file (so memory stays bounded whatever the file's size) while
// the checksum of the stored bytes is computed; Commit hands the finished
// file to the store. In an encrypted repository the bytes are encrypted
// on their way to the spool, so the checksum is that of the ciphertext
// and `verify --mode checksum` needs no key. In a local repository the
// spool lies in the repository's own file system, so the store links it
// into place instead of copying it.
type FileWriter struct {
	store  Store
	retain func(context.Context) context.Context // the repository's retention
	path   string
	spool  *os.File
	hash   *checksum.Writer // the stored bytes
	enc    io.WriteCloser   // encrypts into hash (or passes bytes on)
	n      int64            // bytes the caller wrote
}

// CreateFile starts the data file path (under data/) with digests of
// algorithm alg. spoolDir overrides where the file is spooled; "" means
// the repository's own spool directory when it has one, else the system's
// temporary directory. The caller must Commit or Abort the writer.
//
// In an encrypted repository the file is stored under an opaque name in
// the same backup folder (data/<id>/<random>), so that object names reveal
// no database, collection or partition; Commit returns the name used.
func (r *Repository) CreateFile(ctx context.Context, path string, alg checksum.Algorithm, spoolDir string) (*FileWriter, error) {
	if !strings.HasPrefix(path, "data/") {
		return nil, fmt.Errorf("create %s: data files lie under data/", path)
	}
	w, err := r.createSpool(ctx, r.storedName(path), alg, spoolDir)
	if err != nil {
		return nil, err
	}
	if w.enc, err = r.seal(w.hash); err != nil {
		w.Abort()
		return nil, fmt.Errorf("encrypt %s: %w", path, err)
	}
	return w, nil
}

// storedName is the name a file written as path is stored under: path
// itself, or in an encrypted repository, for a backup's data file
// (data/<id>/...), an opaque name in the same backup folder.
func (r *Repository) storedName(path string) string {
	rest, ok := strings.CutPrefix(path, "data/")
	id, _, nested := strings.Cut(rest, "/")
	if r.crypt == nil || !ok || !nested {
		return path
	}
	return manifest.DataPrefix(id) + randomHex(16) + ".age"
}

// createSpool starts a writer whose bytes are stored as they are.
func (r *Repository) createSpool(ctx context.Context, name string, alg checksum.Algorithm, spoolDir string) (*FileWriter, error) {
	if spoolDir == "" {
		spoolDir = r.spoolDir(ctx)
	}
	spool, err := os.CreateTemp(spoolDir, spoolPattern)
	if err != nil {
		return nil, fmt.Errorf("spool %s: %w", name, err)
	}
	h := checksum.NewWriter(spool, alg)
	return &FileWriter{store: r.store, retain: r.retained, path: name, spool: spool, hash: h, enc: nopCloser{h}}, nil
}

// spoolDir is the store's spool directory, or "" (the system default).
func (r *Repository) spoolDir(ctx context.Context) string {
	dir, err := r.store.SpoolDir(ctx)
	if err != nil {
		return ""
	}
	return dir
}

// Write appends p to the file.
func (w *FileWriter) Write(p []byte) (int, error) {
	n, err := w.enc.Write(p)
	w.n += int64(n)
	return n, err
}

// Size returns the bytes written so far (before encryption).
func (w *FileWriter) Size() int64 { return w.n }

// Path returns the file's name in the repository.
func (w *FileWriter) Path() string { return w.path }

// Commit stores the file and returns its manifest entry (without Rows,
// which the caller knows): the stored name, the size and the checksum of
// the stored bytes. The spool file is removed either way. The file is not
// part of any backup until a manifest naming it is committed.
func (w *FileWriter) Commit(ctx context.Context) (manifest.File, error) {
	defer w.Abort()
	if err := w.enc.Close(); err != nil {
		return manifest.File{}, fmt.Errorf("write %s: %w", w.path, err)
	}
	if _, err := w.spool.Seek(0, io.SeekStart); err != nil {
		return manifest.File{}, fmt.Errorf("write %s: %w", w.path, err)
	}
	if err := w.store.Put(w.retain(ctx), w.path, w.spool); err != nil {
		return manifest.File{}, err
	}
	return manifest.File{Path: w.path, Size: w.hash.Count(), Checksum: w.hash.Digest()}, nil
}

// Abort removes the spool file. It is safe to call more than once and
// after Commit.
func (w *FileWriter) Abort() {
	w.spool.Close()
	os.Remove(w.spool.Name())
}

// RemoveStaleSpools deletes the spool files that a killed writer left in
// the repository's spool directory and returns their names. It needs held,
// an exclusive lock on r: only writers holding a lock on r (backups a
// shared one, copies an exclusive one) create spool files there, so under
// an exclusive lock no writer runs and every one found is stale.
func (r *Repository) RemoveStaleSpools(ctx context.Context, held *Lock) ([]string, error) {
	if err := held.check(r, true); err != nil {
		return nil, fmt.Errorf("remove stale spool files: %w", err)
	}
	dir, err := r.store.SpoolDir(ctx)
	if err != nil {
		return nil, nil // no local files, no spool files
	}
	stale, _ := filepath.Glob(filepath.Join(dir, spoolPattern))
	var removed []string
	for _, f := range stale {
		if os.Remove(f) == nil {
			removed = append(removed, filepath.Base(f))
		}
	}
	return removed, nil
}

// ContentError reports a stored file whose bytes differ from its manifest
// entry.
type ContentError struct {
	Path    string
	Problem string // e.g. "size 10 bytes, manifest says 12"
}

func (e *ContentError) Error() string { return e.Path + ": " + e.Problem }

// ReadFile copies the stored file f to w (nowhere when w is nil) and
// checks it against its manifest entry on the way: it returns a
// *ContentError when the size or digest differs, an error wrapping
// ErrNotFound when the file is missing. The bytes reach w before they are
// judged, so a caller that keeps them must discard them on an error.
func (r *Repository) ReadFile(ctx context.Context, f manifest.File, w io.Writer) error {
	n, digest, err := r.HashFile(ctx, f, w)
	if err != nil {
		return err
	}
	return judge(f, n, digest)
}

// HashFile copies the content of the stored file f to w (nowhere when w
// is nil) and returns how many bytes were stored and their
// "algorithm:hex" digest, with the algorithm of f's manifest digest,
// without judging them. In an encrypted repository w receives the
// decrypted content (which needs the key; a changed byte fails with a
// *ContentError), while the count and digest are those of the stored
// ciphertext; with w nil nothing is decrypted and no key is needed.
func (r *Repository) HashFile(ctx context.Context, f manifest.File, w io.Writer) (int64, string, error) {
	if r.crypt == nil || w == nil {
		return r.hashStored(ctx, f, w)
	}
	alg, _, err := checksum.ParseDigest(f.Checksum)
	if err != nil {
		return 0, "", fmt.Errorf("manifest checksum of %s: %w", f.Path, err)
	}
	if err := r.needKey("reading " + f.Path); err != nil {
		return 0, "", err
	}
	rc, err := r.store.Open(ctx, f.Path)
	if err != nil {
		return 0, "", err
	}
	defer rc.Close()
	h := checksum.NewWriter(nil, alg)
	stored := io.TeeReader(ctxio.Reader(ctx, rc), h)
	plain, err := r.unseal(f.Path, stored)
	if err == nil {
		_, err = io.Copy(w, plain)
	}
	if err == nil {
		_, err = io.Copy(io.Discard, stored) // trailing bytes count too
	}
	return h.Count(), h.Digest(), err
}

// hashStored copies the stored bytes of f, as they are, to w (nowhere when
// nil) and returns their count and digest.
func (r *Repository) hashStored(ctx context.Context, f manifest.File, w io.Writer) (int64, string, error) {
	alg, _, err := checksum.ParseDigest(f.Checksum)
	if err != nil {
		return 0, "", fmt.Errorf("manifest checksum of %s: %w", f.Path, err)
	}
	rc, err := r.store.Open(ctx, f.Path)
	if err != nil {
		return 0, "", err
	}
	defer rc.Close()
	h := checksum.NewWriter(w, alg)
	if _, err := io.Copy(h, ctxio.Reader(ctx, rc)); err != nil {
		return h.Count(), "", err
	}
	return h.Count(), h.Digest(), nil
}

// CheckStored reads the stored bytes of f and compares their size and
// digest with f, passing them on to w (nowhere when nil). It returns a
// *ContentError on a mismatch and never decrypts: it needs no key.
func (r *Repository) CheckStored(ctx context.Context, f manifest.File, w io.Writer) error {
	n, digest, err := r.hashStored(ctx, f, w)
	if err != nil {
		return err
	}
	return judge(f, n, digest)
}

// judge compares a stored file's size and digest with its manifest entry.
func judge(f manifest.File, n int64, digest string) error {
	switch {
	case n != f.Size:
		return &ContentError{Path: f.Path, Problem: fmt.Sprintf("size %d bytes, manifest says %d", n, f.Size)}
	case digest != f.Checksum:
		return &ContentError{Path: f.Path, Problem: fmt.Sprintf("checksum mismatch (%s, manifest says %s)", digest, f.Checksum)}
	}
	return nil
}

// StatFile describes the stored file path.
func (r *Repository) StatFile(ctx context.Context, path string) (FileInfo, error) {
	return r.store.Stat(ctx, path)
}

// Location describes where the repository lives (a path or URL without
// secrets).
func (r *Repository) Location() string { return r.store.Location() }

// FreeSpace returns how many bytes the repository's store can still take,
// or an error wrapping ErrUnsupported when it cannot tell.
func (r *Repository) FreeSpace(ctx context.Context) (int64, error) {
	n, err := r.store.FreeSpace(ctx)
	if err != nil && !errors.Is(err, ErrUnsupported) {
		return 0, fmt.Errorf("free space of %s: %w", r.store.Location(), err)
	}
	return n, err
}

// CopyFile copies the data file f from src into r, spooled as CreateFile
// does (spoolDir "" means r's own), passing the bytes read on to w (nowhere
// when nil). The stored bytes are copied as they are, under the same name
// (ciphertext stays ciphertext: no key is needed; see CheckCopy). They are
// checked against f on the way: a damaged source returns a *ContentError
// and stores nothing. Errors of reading the source say so.
func (r *Repository) CopyFile(ctx context.Context, src *Repository, f manifest.File, spoolDir string, w io.Writer) error {
	alg, _, err := checksum.ParseDigest(f.Checksum)
	if err != nil {
		return fmt.Errorf("manifest checksum of %s: %w", f.Path, err)
	}
	if !strings.HasPrefix(f.Path, "data/") {
		return fmt.Errorf("copy %s: data files lie under data/", f.Path)
	}
	fw, err := r.createSpool(ctx, f.Path, alg, spoolDir)
	if err != nil {
		return err
	}
	defer fw.Abort()
	if err := src.copyTo(ctx, f.Path, fw, w); err != nil {
		return err
	}
	if err := judge(f, fw.hash.Count(), fw.hash.Digest()); err != nil {
		return err
	}
	if _, err := fw.Commit(ctx); err != nil {
		return fmt.Errorf("copy %s: %w", f.Path, err)
	}
	return nil
}

// copyTo copies the stored file name to fw and w.
func (r *Repository) copyTo(ctx context.Context, name string, fw *FileWriter, w io.Writer) error {
	rc, err := r.store.Open(ctx, name)
	if err == nil {
		defer rc.Close()
		var dst io.Writer = fw
		if w != nil {
			dst = io.MultiWriter(fw, w)
		}
		_, err = io.Copy(dst, ctxio.Reader(ctx, rc))
	}
	if err != nil {
		return fmt.Errorf("read %s from the source: %w", name, err)
	}
	return nil
}
