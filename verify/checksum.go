// Package verify checks that a backup is intact and restorable.
//
// Checksum verification re-reads every data file and compares its size and
// digest with the manifest. Restore runs it before writing anything.
package verify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/milvault/milvault/checksum"
	"github.com/milvault/milvault/internal/ctxio"
	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/progress"
	"github.com/milvault/milvault/repo"
)

// FileProblem is one damaged or missing file.
type FileProblem struct {
	Path    string
	Problem string // e.g. "missing", "size 10, manifest says 12", "checksum mismatch"
}

// DamagedError lists every damaged file of a backup.
type DamagedError struct {
	BackupID string
	Files    []FileProblem
}

func (e *DamagedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "backup %s is damaged: %d file(s) failed verification", e.BackupID, len(e.Files))
	for i, f := range e.Files {
		if i == 10 {
			fmt.Fprintf(&b, "\n  ... and %d more", len(e.Files)-10)
			break
		}
		fmt.Fprintf(&b, "\n  %s: %s", f.Path, f.Problem)
	}
	return b.String()
}

// Checksums re-reads files and compares size and digest with what the
// manifest records. It checks every file, then returns a *DamagedError naming
// all that failed. Other errors (the store cannot be read) end it at once.
func Checksums(ctx context.Context, s repo.Store, m *manifest.Manifest, files []manifest.File, p progress.Progress) error {
	var total int64
	for _, f := range files {
		total += f.Size
	}
	p.Phase("verify checksums of "+m.ID, 0, total)
	damaged := &DamagedError{BackupID: m.ID}
	for _, f := range files {
		problem, err := checkFile(ctx, s, f, p)
		if err != nil {
			return fmt.Errorf("verify %s: %w", f.Path, err)
		}
		if problem != "" {
			damaged.Files = append(damaged.Files, FileProblem{Path: f.Path, Problem: problem})
		}
	}
	if len(damaged.Files) > 0 {
		return damaged
	}
	return nil
}

func checkFile(ctx context.Context, s repo.Store, f manifest.File, p progress.Progress) (string, error) {
	if _, _, err := checksum.ParseDigest(f.Checksum); err != nil {
		return "unreadable checksum in manifest: " + err.Error(), nil
	}
	problem, err := ReadChecked(ctx, s, f, progress.BytesWriter(p))
	if errors.Is(err, repo.ErrNotFound) {
		return "missing", nil
	}
	return problem, err
}

// ReadChecked reads the stored file f (passing its bytes on to w, if not
// nil) and describes how it differs from the manifest: "" when its size and
// digest match. Errors are those of reading, or a manifest digest that
// cannot be parsed.
func ReadChecked(ctx context.Context, s repo.Store, f manifest.File, w io.Writer) (string, error) {
	n, digest, err := ReadHashed(ctx, s, f, w)
	if err != nil {
		return "", err
	}
	switch {
	case n != f.Size:
		return fmt.Sprintf("size %d bytes, manifest says %d", n, f.Size), nil
	case digest != f.Checksum:
		return fmt.Sprintf("checksum mismatch (%s, manifest says %s)", digest, f.Checksum), nil
	}
	return "", nil
}

// ReadHashed reads the stored file f (passing its bytes on to w, if not
// nil) with the hash algorithm of its manifest digest, and returns how many
// bytes it read and their "algorithm:hex" digest.
func ReadHashed(ctx context.Context, s repo.Store, f manifest.File, w io.Writer) (int64, string, error) {
	alg, _, err := checksum.ParseDigest(f.Checksum)
	if err != nil {
		return 0, "", fmt.Errorf("manifest checksum of %s: %w", f.Path, err)
	}
	rc, err := s.Open(ctx, f.Path)
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

// ChecksumReport runs Checksums over every file of m and reports the result.
func ChecksumReport(ctx context.Context, s repo.Store, m *manifest.Manifest, p progress.Progress) (*Report, error) {
	start := time.Now()
	rep := &Report{BackupID: m.ID, Mode: ModeChecksum, Files: len(m.Files()), Rows: m.TotalRows()}
	err := Checksums(ctx, s, m, m.Files(), p)
	var dmg *DamagedError
	switch {
	case errors.As(err, &dmg):
		rep.Damaged = dmg.Files
	case err != nil:
		return nil, err
	}
	rep.OK = len(rep.Damaged) == 0
	rep.Duration = time.Since(start)
	return rep, nil
}
