package manifest

// Kind methods classify the package's errors for errkind.Of, which maps them
// to exit codes and HTTP statuses.

import "github.com/milvault/milvault/errkind"

// Kind reports errkind.Damaged.
func (*MalformedError) Kind() errkind.Kind { return errkind.Damaged }
