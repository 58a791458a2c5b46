package repo_test

import (
	"fmt"
	"testing"

	"github.com/milvault/milvault/errkind"
	"github.com/milvault/milvault/repo"
)

// TestErrorKinds checks the kinds that decide exit codes, also through
// wrapping (restore wraps a DamagedError in "refusing to restore: ...").
func TestErrorKinds(t *testing.T) {
	for _, c := range []struct {
		err  error
		want errkind.Kind
	}{
		{fmt.Errorf("refusing to restore: %w", &repo.DamagedError{BackupID: "x"}), errkind.Damaged},
		{&repo.ContentError{Path: "data/x", Problem: "checksum mismatch"}, errkind.Damaged},
		{&repo.BackupNotFoundError{Ref: "x"}, errkind.NotFound},
	} {
		if got := errkind.Of(c.err); got != c.want {
			t.Errorf("errkind.Of(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}
