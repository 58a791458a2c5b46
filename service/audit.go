package service

import (
	"context"

	"github.com/milvault/milvault/audit"
	"github.com/milvault/milvault/backup"
	"github.com/milvault/milvault/repo"
)

// PrincipalSchedule is the audit principal of the jobs the service starts
// on its own (schedules, missed runs); API requests carry the principal of
// their token (see api.Tokens).
const PrincipalSchedule = "schedule"

// audit appends an entry for a job step that wrote to r (or to Milvus) and
// ended with err. A trail that cannot be written is logged: the step
// already happened or failed.
func (s *Service) audit(ctx context.Context, r *repo.Repository, principal string, e audit.Entry, err error) {
	if principal == "" {
		principal = PrincipalSchedule
	}
	e.Principal = principal
	e.Outcome(err)
	if _, aerr := audit.Record(context.WithoutCancel(ctx), r, e); aerr != nil {
		s.opts.Logger.Warn("audit entry not written", "operation", e.Operation, "error", aerr)
	}
}

// backupEntry is the audit entry of a policy's backup.
func backupEntry(policy string, b *backup.Result) audit.Entry {
	e := audit.Entry{Operation: audit.OpBackup, Params: map[string]any{"policy": policy}}
	if b != nil && b.Manifest != nil {
		e.BackupIDs, e.Collections = []string{b.Manifest.ID}, audit.Collections(b.Manifest)
	}
	return e
}
