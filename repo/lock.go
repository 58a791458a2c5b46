package repo

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"time"

	"github.com/milvault/milvault/internal/clock"
)

// Lock timing defaults. A holder rewrites its lock every
// DefaultLockRefresh; a lock not rewritten for DefaultLockStaleAfter is
// stale, as is a lock of a process that no longer runs on this host.
const (
	DefaultLockRefresh    = 5 * time.Minute
	DefaultLockStaleAfter = 30 * time.Minute
	defaultLockPoll       = 2 * time.Second
)

const lockPrefix = "locks/"

// ErrLockLost is the cause of a lock context's cancellation when the lock
// could not be refreshed in time or was removed by someone else.
var ErrLockLost = errors.New("repository lock lost")

// LockInfo is the content of one lock file under locks/.
type LockInfo struct {
	Name      string    `json:"-"` // file name in the store
	Exclusive bool      `json:"exclusive"`
	Operation string    `json:"operation"` // backup, delete, copy, ...
	Host      string    `json:"host"`
	PID       int       `json:"pid"`
	Created   time.Time `json:"created"`
	Refreshed time.Time `json:"refreshed"`
}

func (l LockInfo) String() string {
	kind := "shared"
	if l.Exclusive {
		kind = "exclusive"
	}
	who := fmt.Sprintf("pid %d on %s", l.PID, l.Host)
	if l.Host == "" {
		who = "a process whose host is encrypted"
	}
	return fmt.Sprintf("%s lock for %s by %s, created %s, refreshed %s",
		kind, l.Operation, who, l.Created.UTC().Format(time.RFC3339), l.Refreshed.UTC().Format(time.RFC3339))
}

// LockOptions say what kind of lock to take and how long to wait for it.
type LockOptions struct {
	// Exclusive locks (backup, delete, copy into) conflict with every other
	// lock; shared locks conflict only with exclusive ones.
	Exclusive bool
	Operation string
	// Wait is how long to retry while a conflicting lock is held; 0 fails
	// at once.
	Wait         time.Duration
	RefreshEvery time.Duration // default DefaultLockRefresh
	StaleAfter   time.Duration // default DefaultLockStaleAfter
	PollEvery    time.Duration // pause between attempts while waiting; default 2s
	// OnStale, if set, is told about each stale lock that was ignored.
	OnStale func(LockInfo)
}

func (o LockOptions) withDefaults() LockOptions {
	if o.RefreshEvery <= 0 {
		o.RefreshEvery = DefaultLockRefresh
	}
	if o.StaleAfter <= 0 {
		o.StaleAfter = DefaultLockStaleAfter
	}
	if o.PollEvery <= 0 {
		o.PollEvery = defaultLockPoll
	}
	if o.Operation == "" {
		o.Operation = "unknown"
	}
	return o
}

// LockedError reports that a conflicting lock is held.
type LockedError struct {
	Location string
	Holders  []LockInfo
	Waited   time.Duration
}

func (e *LockedError) Error() string {
	var holders []string
	for _, h := range e.Holders {
		holders = append(holders, h.String())
	}
	waited := ""
	if e.Waited > 0 {
		waited = fmt.Sprintf(" (waited %s)", e.Waited.Round(time.Second))
	}
	return fmt.Sprintf("repository %s is locked%s: %s; wait for it to finish (--lock-wait), or if that process is gone, run `milvault unlock`",
		e.Location, waited, strings.Join(holders, "; "))
}

// Lock takes a lock on the repository and keeps it fresh until Unlock. The
// returned context is ctx, cancelled with cause ErrLockLost if the lock
// cannot be kept; long operations run under it.
//
// Acquiring writes the lock file first and lists the others after: of two
// processes that lock at the same time, at least one sees the other's file.
// A process that sees a conflicting lock withdraws its own and, while Wait
// allows, tries again after a jittered pause. Two conflicting holders
// therefore never coexist, whatever the timing. Stale locks are ignored (and
// reported to OnStale); `milvault unlock` removes them.
func (r *Repository) Lock(ctx context.Context, o LockOptions) (*Lock, context.Context, error) {
	o = o.withDefaults()
	start := r.now()
	for {
		l, conflicts, err := r.tryLock(ctx, o)
		if err != nil {
			return nil, nil, err
		}
		if l != nil {
			lctx := l.start(ctx, o)
			return l, lctx, nil
		}
		waited := r.now().Sub(start)
		if waited >= o.Wait {
			le := &LockedError{Location: r.store.Location(), Holders: conflicts}
			if o.Wait > 0 {
				le.Waited = waited
			}
			return nil, nil, le
		}
		pause := min(o.Wait-waited, time.Duration((0.5+rand.Float64())*float64(o.PollEvery)))
		if err := clock.Sleep(ctx, pause); err != nil {
			return nil, nil, err
		}
	}
}

// tryLock writes a lock file and keeps it when no conflicting lock exists;
// otherwise it removes it again and returns the conflicting locks.
func (r *Repository) tryLock(ctx context.Context, o LockOptions) (*Lock, []LockInfo, error) {
	host, _ := os.Hostname()
	now := r.now().UTC()
	info := LockInfo{Exclusive: o.Exclusive, Operation: o.Operation, Host: host, PID: os.Getpid(), Created: now, Refreshed: now}
	info.Name = lockPrefix + now.Format("20060102T150405.000000000Z") + "-" + randomHex(4) + ".json"
	if err := r.writeLock(ctx, info); err != nil {
		return nil, nil, fmt.Errorf("lock repository %s: %w", r.store.Location(), err)
	}
	locks, err := r.Locks(ctx)
	if err != nil {
		r.store.Delete(context.WithoutCancel(ctx), info.Name)
		return nil, nil, err
	}
	var conflicts, stale []LockInfo
	for _, other := range locks {
		switch {
		case other.Name == info.Name || (!o.Exclusive && !other.Exclusive):
		case r.LockIsStale(other, o.StaleAfter):
			stale = append(stale, other)
		default:
			conflicts = append(conflicts, other)
		}
	}
	if len(conflicts) > 0 {
		if err := r.store.Delete(context.WithoutCancel(ctx), info.Name); err != nil {
			return nil, nil, fmt.Errorf("withdraw lock %s: %w", info.Name, err)
		}
		return nil, conflicts, nil
	}
	for _, s := range stale {
		if o.OnStale != nil {
			o.OnStale(s)
		}
	}
	return &Lock{r: r, info: info}, nil, nil
}

func (r *Repository) writeLock(ctx context.Context, info LockInfo) error {
	public := LockInfo{Exclusive: info.Exclusive, Operation: info.Operation, Created: info.Created, Refreshed: info.Refreshed}
	return r.putRecord(ctx, info.Name, info, public)
}

// Locks returns every lock file in the repository, oldest first. A lock
// file that cannot be read is returned with Operation "unreadable" and its
// modification time, so that it ages into staleness.
func (r *Repository) Locks(ctx context.Context) ([]LockInfo, error) {
	files, err := r.store.List(ctx, lockPrefix)
	if err != nil {
		return nil, fmt.Errorf("list locks of %s: %w", r.store.Location(), err)
	}
	var out []LockInfo
	for _, f := range files {
		info, err := r.readLock(ctx, f.Name)
		if errors.Is(err, ErrNotFound) {
			continue // released meanwhile
		}
		if err != nil {
			info = LockInfo{Name: f.Name, Exclusive: true, Operation: "unreadable", Created: f.ModTime, Refreshed: f.ModTime}
		}
		out = append(out, info)
	}
	return out, nil
}

func (r *Repository) readLock(ctx context.Context, name string) (LockInfo, error) {
	var info LockInfo
	if _, err := r.getRecord(ctx, name, &info); err != nil {
		if errors.Is(err, ErrNotFound) {
			return LockInfo{}, err
		}
		return LockInfo{}, fmt.Errorf("read lock %s: %w", name, err)
	}
	info.Name = name
	return info, nil
}

// LockIsStale reports whether l no longer protects anything: its process
// is gone from this host, or it was not refreshed for staleAfter (0 means
// DefaultLockStaleAfter).
func (r *Repository) LockIsStale(l LockInfo, staleAfter time.Duration) bool {
	if staleAfter <= 0 {
		staleAfter = DefaultLockStaleAfter
	}
	if r.now().Sub(l.Refreshed) > staleAfter {
		return true
	}
	host, _ := os.Hostname()
	return l.Host == host && !processAlive(l.PID)
}

// RemoveLocks removes stale locks, or every lock when all is true, and
// returns what it removed.
func (r *Repository) RemoveLocks(ctx context.Context, all bool) ([]LockInfo, error) {
	locks, err := r.Locks(ctx)
	if err != nil {
		return nil, err
	}
	var removed []LockInfo
	for _, l := range locks {
		if !all && !r.LockIsStale(l, 0) {
			continue
		}
		if err := r.store.Delete(ctx, l.Name); err != nil {
			return removed, fmt.Errorf("remove lock %s: %w", l.Name, err)
		}
		removed = append(removed, l)
	}
	return removed, nil
}
