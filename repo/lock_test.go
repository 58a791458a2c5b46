package repo_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/mem"
)

// reopen returns another Repository over the same store, as a second
// process would have.
func reopen(t *testing.T, s repo.Store) *repo.Repository {
	t.Helper()
	r, err := repo.Open(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func lock(t *testing.T, r *repo.Repository, o repo.LockOptions) (*repo.Lock, error) {
	t.Helper()
	if o.PollEvery == 0 {
		o.PollEvery = 10 * time.Millisecond
	}
	l, _, err := r.Lock(context.Background(), o)
	if err == nil {
		t.Cleanup(func() { l.Unlock() })
	}
	return l, err
}

func TestLockConflicts(t *testing.T) {
	tests := []struct {
		first, second bool // exclusive?
		wantConflict  bool
	}{
		{true, true, true},
		{true, false, true},
		{false, true, true},
		{false, false, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("exclusive %v then %v", tt.first, tt.second), func(t *testing.T) {
			r1, s := newRepo(t)
			if _, err := lock(t, r1, repo.LockOptions{Exclusive: tt.first, Operation: "backup"}); err != nil {
				t.Fatal(err)
			}
			_, err := lock(t, reopen(t, s), repo.LockOptions{Exclusive: tt.second, Operation: "delete"})
			var le *repo.LockedError
			if got := errors.As(err, &le); got != tt.wantConflict {
				t.Fatalf("second lock error = %v, want conflict %v", err, tt.wantConflict)
			}
			if tt.wantConflict && (len(le.Holders) != 1 || le.Holders[0].Operation != "backup" || !strings.Contains(err.Error(), "for backup by pid")) {
				t.Errorf("LockedError = %v, want it to name the backup holder", err)
			}
			if locks, _ := r1.Locks(context.Background()); len(locks) != 1+btoi(!tt.wantConflict) {
				t.Errorf("%d lock files after the attempt, want the loser's withdrawn", len(locks))
			}
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestLockWaitsForHolder(t *testing.T) {
	r1, s := newRepo(t)
	l, err := lock(t, r1, repo.LockOptions{Exclusive: true, Operation: "backup"})
	if err != nil {
		t.Fatal(err)
	}
	var releasing atomic.Bool // set before Unlock begins, so set whenever the lock is free
	time.AfterFunc(150*time.Millisecond, func() { releasing.Store(true); l.Unlock() })
	if _, err := lock(t, reopen(t, s), repo.LockOptions{Exclusive: true, Operation: "backup", Wait: time.Minute}); err != nil {
		t.Fatalf("waiting lock: %v", err)
	}
	if !releasing.Load() {
		t.Error("got the lock before the holder released it")
	}
	_, err = lock(t, reopen(t, s), repo.LockOptions{Exclusive: true, Wait: 100 * time.Millisecond})
	var le *repo.LockedError
	if !errors.As(err, &le) || le.Waited < 100*time.Millisecond || !strings.Contains(err.Error(), "waited") {
		t.Errorf("lock with a short wait = %v, want LockedError after waiting", err)
	}
}

func TestStaleLocks(t *testing.T) {
	ctx := context.Background()
	r, s := newRepo(t)
	old := time.Now().Add(-2 * time.Hour).UTC().Format(time.RFC3339)
	s.Put(ctx, "locks/dead.json", strings.NewReader(`{"exclusive":true,"operation":"backup","host":"`+hostname()+`","pid":999999999,"created":"`+time.Now().UTC().Format(time.RFC3339)+`","refreshed":"`+time.Now().UTC().Format(time.RFC3339)+`"}`))
	s.Put(ctx, "locks/old.json", strings.NewReader(`{"exclusive":true,"operation":"delete","host":"elsewhere","pid":1,"created":"`+old+`","refreshed":"`+old+`"}`))
	var stale []string
	l, err := lock(t, r, repo.LockOptions{Exclusive: true, OnStale: func(li repo.LockInfo) { stale = append(stale, li.Name) }})
	if err != nil {
		t.Fatalf("stale locks blocked: %v", err)
	}
	if strings.Join(stale, ",") != "locks/dead.json,locks/old.json" {
		t.Errorf("reported stale %v, want dead and old", stale)
	}
	removed, err := r.RemoveLocks(ctx, false)
	if err != nil || len(removed) != 2 {
		t.Fatalf("RemoveLocks(stale) = %v, %v; want the 2 stale ones", removed, err)
	}
	if locks, _ := r.Locks(ctx); len(locks) != 1 || locks[0].Name != l.Info().Name {
		t.Fatalf("locks left = %v, want only the live one", locks)
	}
	if removed, _ := r.RemoveLocks(ctx, true); len(removed) != 1 {
		t.Errorf("RemoveLocks(all) removed %d, want 1", len(removed))
	}
}

// removeBeforeStat is a store on which the lock file disappears just before
// the next refresh looks at it, once armed: `milvault unlock --remove-all`
// run by someone else, at a moment that does not depend on timing.
type removeBeforeStat struct {
	repo.Store
	armed atomic.Bool
}

func (s *removeBeforeStat) Stat(ctx context.Context, name string) (repo.FileInfo, error) {
	if strings.HasPrefix(name, "locks/") && s.armed.CompareAndSwap(true, false) {
		if err := s.Store.Delete(ctx, name); err != nil {
			return repo.FileInfo{}, err
		}
	}
	return s.Store.Stat(ctx, name)
}

// waitFor polls cond until it holds or a minute has passed: generous, so
// that a busy machine slows the test down without failing it.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after a minute: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestLockRefreshAndLoss(t *testing.T) {
	ctx := context.Background()
	s := &removeBeforeStat{Store: mem.New()}
	r, err := repo.OpenOrInit(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	l, lctx, err := r.Lock(ctx, repo.LockOptions{Exclusive: true, RefreshEvery: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Unlock()
	waitFor(t, "the lock was never refreshed", func() bool {
		locks, _ := r.Locks(ctx)
		return len(locks) == 1 && locks[0].Refreshed.After(locks[0].Created)
	})
	s.armed.Store(true) // someone runs unlock --remove-all before the next refresh
	select {
	case <-lctx.Done():
		if !errors.Is(context.Cause(lctx), repo.ErrLockLost) {
			t.Errorf("lock context cause = %v, want ErrLockLost", context.Cause(lctx))
		}
	case <-time.After(time.Minute):
		t.Fatal("lock context not cancelled a minute after the lock file was removed")
	}
	if locks, _ := r.Locks(ctx); len(locks) != 0 {
		t.Errorf("locks after the loss = %v, want the removed file not written back", locks)
	}
}

// TestUnlockIsFinal unlocks while the lock is refreshed as often as it can
// be: no refresh may write the removed file back.
func TestUnlockIsFinal(t *testing.T) {
	ctx := context.Background()
	r, _ := newRepo(t)
	for i := range 200 {
		l, _, err := r.Lock(ctx, repo.LockOptions{Exclusive: true, RefreshEvery: time.Microsecond})
		if err != nil {
			t.Fatal(err)
		}
		if i%2 == 1 {
			time.Sleep(time.Duration(i) * time.Microsecond)
		}
		if err := l.Unlock(); err != nil {
			t.Fatal(err)
		}
		if locks, _ := r.Locks(ctx); len(locks) != 0 {
			t.Fatalf("round %d: %d lock files after Unlock, want none", i, len(locks))
		}
	}
}

func TestExclusiveLockNeverHeldTwice(t *testing.T) {
	s := mem.New()
	if _, err := repo.OpenOrInit(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	var holders, peak, done atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, _ := repo.Open(context.Background(), s)
			l, _, err := r.Lock(context.Background(), repo.LockOptions{Exclusive: true, Wait: 20 * time.Second, PollEvery: 5 * time.Millisecond})
			if err != nil {
				t.Error(err)
				return
			}
			n := holders.Add(1)
			if n > peak.Load() {
				peak.Store(n)
			}
			time.Sleep(2 * time.Millisecond)
			holders.Add(-1)
			l.Unlock()
			done.Add(1)
		}()
	}
	wg.Wait()
	if peak.Load() != 1 || done.Load() != 8 {
		t.Errorf("peak holders %d, finished %d; want 1 and 8", peak.Load(), done.Load())
	}
}
