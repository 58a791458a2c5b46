package repo

// Kind methods classify the package's errors for errkind.Of, which maps them
// to exit codes and HTTP statuses.

import "github.com/milvault/milvault/errkind"

// Kind reports errkind.NotRepository.
func (*NoRepositoryError) Kind() errkind.Kind { return errkind.NotRepository }

// Kind reports errkind.NotFound.
func (*BackupNotFoundError) Kind() errkind.Kind { return errkind.NotFound }

// Kind reports errkind.Locked.
func (*LockedError) Kind() errkind.Kind { return errkind.Locked }

// Kind reports errkind.Conflict.
func (*ExistsError) Kind() errkind.Kind { return errkind.Conflict }

// Kind reports errkind.Damaged.
func (*DamagedError) Kind() errkind.Kind { return errkind.Damaged }

// Kind reports errkind.Damaged.
func (*ContentError) Kind() errkind.Kind { return errkind.Damaged }
