package retention

import (
	"context"
	"errors"
	"time"

	"github.com/milvault/milvault/repo"
)

// LockedReason starts the reason of a verdict kept because the
// repository's object lock still protects the backup.
const LockedReason = "object lock until "

// HoldLocked keeps, in plan, the backups that the rules would remove but
// that r's object lock still protects, giving the time each becomes
// deletable as the reason ("object lock until 2026-12-01T14:00:00Z"). A
// prune that follows the returned plan so never fails half-way on a
// protected backup. Without an object lock the plan is returned as it is.
func HoldLocked(ctx context.Context, r *repo.Repository, plan []Verdict) ([]Verdict, error) {
	if r.Config().ObjectLock == nil {
		return plan, nil
	}
	out := make([]Verdict, len(plan))
	for i, v := range plan {
		out[i] = v
		if v.Keep {
			continue
		}
		err := r.CheckDeletable(ctx, v.Manifest.ID)
		var re *repo.RetainedError
		switch {
		case errors.As(err, &re):
			out[i].Keep = true
			out[i].Reasons = append(append([]string(nil), v.Reasons...), LockedReason+re.Until.UTC().Format(time.RFC3339))
		case err != nil:
			return nil, err
		}
	}
	return out, nil
}
