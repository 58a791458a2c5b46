// Package verify checks that a backup is intact and restorable, and
// records the proof in the repository.
//
// Checksum verification re-reads every data file and compares its size and
// digest with the manifest (restore runs the same check before writing
// anything). Quick verification checks a seeded sample of files and rows;
// deep verification restores the backup into scratch collections and
// compares every row.
package verify

import (
	"context"
	"errors"

	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/repo"
)

// FileProblem is one damaged or missing file.
type FileProblem = repo.FileProblem

// DamagedError lists every damaged file of a backup.
type DamagedError = repo.DamagedError

// checksumReport checks every file of m and reports the result.
func checksumReport(ctx context.Context, d Deps, m *manifest.Manifest) (*Report, error) {
	start := d.Now()
	rep := &Report{BackupID: m.ID, Mode: ModeChecksum, Files: len(m.Files()), Rows: m.TotalRows()}
	err := d.Repo.CheckFiles(ctx, m, m.Files(), d.Progress)
	var dmg *DamagedError
	switch {
	case errors.As(err, &dmg):
		rep.Damaged = dmg.Files
	case err != nil:
		return nil, err
	}
	rep.OK = len(rep.Damaged) == 0
	rep.Duration = d.Now().Sub(start)
	return rep, nil
}
