package restore

// Kind methods classify the package's errors for errkind.Of, which maps them
// to exit codes and HTTP statuses.

import "github.com/milvault/milvault/errkind"

// Kind reports errkind.Conflict.
func (*ExistsError) Kind() errkind.Kind { return errkind.Conflict }

// Kind reports errkind.Conflict.
func (*AliasConflictError) Kind() errkind.Kind { return errkind.Conflict }
