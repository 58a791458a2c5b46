package backup

import (
	"context"
	"errors"

	"github.com/milvault/milvault/repo"
)

// CleanUp removes what interrupted backups left behind: data and pending
// markers of backups that stopped (repo.Repository.CleanStale) and spool
// files (repo.Repository.RemoveStaleSpools). Both need an exclusive lock,
// since backups run under shared locks and their files must not be touched:
// CleanUp uses held when it is exclusive, skips the cleanup when it is
// shared, and when held is nil tries an exclusive lock of its own without
// waiting, skipping the cleanup while anyone else holds a lock. It tries
// only when repo.Repository.HasLeftovers finds something, so that backups
// of a clean repository never take the exclusive lock: while one is tried
// (a moment), a command that locks without --lock-wait fails as it would
// during a prune. A skipped
// cleanup is done by a later backup or by prune. note is told about each
// spool file removed; it returns the ids of the backups it cleaned.
func CleanUp(ctx context.Context, r *repo.Repository, held *repo.Lock, note func(string)) ([]string, error) {
	if held != nil && !held.Info().Exclusive {
		return nil, nil
	}
	if held == nil {
		if found, err := r.HasLeftovers(ctx); err != nil || !found {
			return nil, err
		}
		l, lctx, err := r.Lock(ctx, repo.LockOptions{Exclusive: true, Operation: "backup cleanup"})
		var le *repo.LockedError
		if errors.As(err, &le) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		defer l.Unlock()
		held, ctx = l, lctx
	}
	cleaned, err := r.CleanStale(ctx, held)
	if err != nil {
		return nil, err
	}
	spools, err := r.RemoveStaleSpools(ctx, held)
	if err != nil {
		return cleaned, err
	}
	for _, name := range spools {
		note("removed " + name + ", a spool file an interrupted backup left behind")
	}
	return cleaned, nil
}
