package repo

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/milvault/milvault/checksum"
	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/progress"
)

// FileProblem is one damaged or missing file.
type FileProblem struct {
	Path    string
	Problem string // e.g. "missing", "size 10 bytes, manifest says 12", "checksum mismatch"
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

// CheckFiles re-reads files of backup m and compares their sizes and
// digests with what the manifest records, reporting the bytes read to p.
// It checks every file, then returns a *DamagedError naming all that
// failed. Other errors (the store cannot be read) end it at once.
func (r *Repository) CheckFiles(ctx context.Context, m *manifest.Manifest, files []manifest.File, p progress.Progress) error {
	var total int64
	for _, f := range files {
		total += f.Size
	}
	p.Phase("verify checksums of "+m.ID, 0, total)
	damaged := &DamagedError{BackupID: m.ID}
	for _, f := range files {
		problem, err := r.CheckFile(ctx, f, p)
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

// CheckFile re-reads one file's stored bytes (never decrypting them, so
// it needs no key) and describes how they differ from its manifest entry ("missing", a size or checksum mismatch, an unreadable
// digest), or returns "" when it matches. Errors are those of reading.
func (r *Repository) CheckFile(ctx context.Context, f manifest.File, p progress.Progress) (string, error) {
	if _, _, err := checksum.ParseDigest(f.Checksum); err != nil {
		return "unreadable checksum in manifest: " + err.Error(), nil
	}
	err := r.CheckStored(ctx, f, progress.BytesWriter(p))
	var ce *ContentError
	switch {
	case errors.Is(err, ErrNotFound):
		return "missing", nil
	case errors.As(err, &ce):
		return ce.Problem, nil
	}
	return "", err
}
