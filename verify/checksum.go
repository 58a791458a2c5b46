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
	alg, _, err := checksum.ParseDigest(f.Checksum)
	if err != nil {
		return "unreadable checksum in manifest: " + err.Error(), nil
	}
	rc, err := s.Open(ctx, f.Path)
	if errors.Is(err, repo.ErrNotFound) {
		return "missing", nil
	}
	if err != nil {
		return "", err
	}
	defer rc.Close()
	w := checksum.NewWriter(progressWriter{p}, alg)
	if _, err := io.Copy(w, rc); err != nil {
		return "", err
	}
	switch {
	case w.Count() != f.Size:
		return fmt.Sprintf("size %d bytes, manifest says %d", w.Count(), f.Size), nil
	case w.Digest() != f.Checksum:
		return fmt.Sprintf("checksum mismatch (%s, manifest says %s)", w.Digest(), f.Checksum), nil
	}
	return "", nil
}

type progressWriter struct{ p progress.Progress }

func (w progressWriter) Write(b []byte) (int, error) {
	w.p.Bytes(int64(len(b)))
	return len(b), nil
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
