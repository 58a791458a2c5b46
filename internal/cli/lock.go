package cli

import (
	"context"
	"time"

	"github.com/spf13/pflag"

	"github.com/milvault/milvault/config"
	"github.com/milvault/milvault/repo"
)

// addLockWaitFlag registers --lock-wait on a command that locks the
// repository.
func addLockWaitFlag(f *pflag.FlagSet, wait *time.Duration) {
	config.DurationVar(f, wait, "lock-wait", 0, "wait this long for another milvault process's lock on the repository (e.g. 30s, 10m) instead of failing at once")
}

// lockRepo takes a lock on r for op, exclusive for commands that remove or
// add files and shared for readers, warning about stale locks it ignores.
// Work runs under the returned context, which ends if the lock is lost, and
// gets the lock itself passed in; unlock releases it.
func (g *GlobalOptions) lockRepo(ctx context.Context, r *repo.Repository, op string, exclusive bool, wait time.Duration) (*repo.Lock, context.Context, func(), error) {
	l, lctx, err := r.Lock(ctx, repo.LockOptions{Exclusive: exclusive, Operation: op, Wait: wait,
		OnStale: func(li repo.LockInfo) {
			g.warnf("ignoring stale lock %s (%s); `milvault unlock` removes it", li.Name, li)
		}})
	if err != nil {
		return nil, nil, nil, err
	}
	return l, lctx, func() {
		if err := l.Unlock(); err != nil {
			g.warnf("%v; `milvault unlock` removes it", err)
		}
	}, nil
}
