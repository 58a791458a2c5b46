package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/milvault/milvault/backup"
	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/milvus"
	"github.com/milvault/milvault/offsite"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/restore"
	"github.com/milvault/milvault/verify"
)

// Exit codes, documented in docs/cli.md.
const (
	ExitOK          = 0
	ExitFailure     = 1 // any other failure
	ExitUsage       = 2 // bad flags, arguments or config
	ExitNotFound    = 3 // backup, repository, database, collection or partition not found
	ExitUnreachable = 4 // Milvus could not be reached or refused the credentials
	ExitDamaged     = 5 // a backup failed verification
	ExitConflict    = 6 // target exists, alias in use, name taken, confirmation missing
	ExitNoSpace     = 7 // not enough space in the repository
	ExitDrillFailed = 8 // a drill failed a check or exceeded --max-rto
	ExitInterrupted = 130
)

// usageError marks errors in how milvault was called.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usageErrorf(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// conflictError marks refusals that protect existing data.
type conflictError struct{ msg string }

func (e *conflictError) Error() string { return e.msg }

// CodedError carries its own exit code, for commands whose result is a
// verdict (doctor's clean/warning/critical). A nil Err prints nothing.
type CodedError struct {
	Code int
	Err  error
}

func (e *CodedError) Error() string {
	if e.Err == nil {
		return ""
	}
	return e.Err.Error()
}

func (e *CodedError) Unwrap() error { return e.Err }

// ExitCode maps an error to the documented exit code.
func ExitCode(err error) int {
	var coded *CodedError
	if errors.As(err, &coded) {
		return coded.Code
	}
	var (
		ue   *usageError
		ce   *conflictError
		nre  *repo.NoRepositoryError
		bnf  *repo.BackupNotFoundError
		cnf  *milvus.CollectionNotFoundError
		pnf  *milvus.PartitionNotFoundError
		dnf  *milvus.DatabaseNotFoundError
		unr  *milvus.UnreachableError
		dmg  *verify.DamagedError
		ex   *restore.ExistsError
		ac   *restore.AliasConflictError
		nosp *backup.InsufficientStorageError
		mal  *manifest.MalformedError
		lk   *repo.LockedError
		sd   *offsite.SourceDamagedError
	)
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, context.Canceled):
		return ExitInterrupted
	case errors.As(err, &ue):
		return ExitUsage
	case errors.Is(err, restore.ErrNotInBackup), errors.As(err, &nre), errors.As(err, &bnf), errors.As(err, &cnf), errors.As(err, &pnf), errors.As(err, &dnf):
		return ExitNotFound
	case errors.As(err, &unr):
		return ExitUnreachable
	case errors.As(err, &dmg), errors.As(err, &mal), errors.As(err, &sd):
		return ExitDamaged
	case errors.As(err, &ex), errors.As(err, &ac), errors.As(err, &ce), errors.As(err, &lk):
		return ExitConflict
	case errors.As(err, &nosp):
		return ExitNoSpace
	}
	return ExitFailure
}
