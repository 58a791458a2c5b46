package repo_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/mem"
)

// countingStore counts the lock files created, that is, the attempts to
// take a lock (a refresh rewrites a file it created).
type countingStore struct {
	repo.Store
	seen     sync.Map
	lockPuts atomic.Int32
}

func (s *countingStore) Put(ctx context.Context, name string, r io.Reader) error {
	if _, dup := s.seen.LoadOrStore(name, true); !dup && strings.HasPrefix(name, "locks/") {
		s.lockPuts.Add(1)
	}
	return s.Store.Put(ctx, name, r)
}

// committedRepo returns a repository holding the committed backup id.
func committedRepo(t *testing.T, s repo.Store, id string) *repo.Repository {
	t.Helper()
	ctx := context.Background()
	r, err := repo.OpenOrInit(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	m := testManifest(id, "")
	if err := s.Put(ctx, m.Files()[0].Path, strings.NewReader("12345")); err != nil {
		t.Fatal(err)
	}
	if err := r.Commit(ctx, m); err != nil {
		t.Fatal(err)
	}
	return r
}

// backupUnderLock plays a backup on r: it takes the exclusive lock, writes
// a pending marker and a data file, waits for proceed, commits and
// unlocks. It reports on locked whether it got the lock, before writing.
func backupUnderLock(r *repo.Repository, s repo.Store, id string, holders *atomic.Int32, locked chan<- bool, proceed <-chan struct{}) error {
	ctx := context.Background()
	l, lctx, err := r.Lock(ctx, repo.LockOptions{Exclusive: true, Operation: "backup"})
	locked <- err == nil
	if err != nil {
		return err
	}
	defer l.Unlock()
	defer holders.Add(-1)
	holders.Add(1)
	stop, err := r.Begin(lctx, l, id)
	if err != nil {
		return err
	}
	m := testManifest(id, "")
	if err := s.Put(lctx, m.Files()[0].Path, strings.NewReader("12345")); err != nil {
		return err
	}
	<-proceed
	stop()
	return r.Commit(lctx, m)
}

// pruneUnderLock plays a prune on r: exclusive lock, then delete id.
// With wait < 0 it plays a delete instead: Repository.Delete taking a lock
// of its own.
func pruneUnderLock(r *repo.Repository, id string, holders *atomic.Int32, wait time.Duration) error {
	ctx := context.Background()
	if wait < 0 {
		// The backup, once it counts itself a holder, holds until this
		// returns: the delete must then be refused.
		backupHolds := holders.Load() == 1
		err := r.Delete(ctx, nil, id)
		if backupHolds && err == nil {
			return errors.New("delete ran while the backup held the exclusive lock")
		}
		return err
	}
	l, lctx, err := r.Lock(ctx, repo.LockOptions{Exclusive: true, Operation: "prune", Wait: wait, PollEvery: 5 * time.Millisecond})
	if err != nil {
		return err
	}
	defer l.Unlock()
	if n := holders.Add(1); n != 1 {
		return errors.New("prune holds the exclusive lock while another operation does")
	}
	defer holders.Add(-1)
	return r.Delete(lctx, l, id)
}

// TestPruneAndBackupInOneProcessExcludeEachOther starts a prune and a
// backup at the same moment on one Repository value, as a service running
// both would, many times over. Exactly as with two processes, they never
// hold the lock together: when the backup wins, the prune fails with
// LockedError naming it and deletes nothing; when the prune wins, the
// backup fails before writing anything or runs after it; when both try at
// the same instant, both may withdraw and fail.
func TestPruneAndBackupInOneProcessExcludeEachOther(t *testing.T) {
	for _, tt := range []struct {
		name string
		wait time.Duration
	}{{"prune", 0}, {"delete", -1}} {
		t.Run(tt.name, func(t *testing.T) { raceBackup(t, tt.wait) })
	}
}

func raceBackup(t *testing.T, pruneWait time.Duration) {
	ctx := context.Background()
	outcomes := map[string]int{}
	for range 40 {
		s := mem.New()
		r := committedRepo(t, s, "20260101T000000Z-000001")
		var holders atomic.Int32
		start, proceed := make(chan struct{}), make(chan struct{})
		locked := make(chan bool, 1)
		var backupErr, pruneErr error
		var wg sync.WaitGroup
		wg.Add(2)
		go func() {
			defer wg.Done()
			<-start
			backupErr = backupUnderLock(r, s, "20260101T000000Z-000002", &holders, locked, proceed)
		}()
		go func() {
			defer wg.Done()
			<-start
			pruneErr = pruneUnderLock(r, "20260101T000000Z-000001", &holders, pruneWait)
			close(proceed) // the backup, if it holds the lock, finishes only now
		}()
		close(start)
		wg.Wait()
		backupLocked := <-locked
		var le *repo.LockedError
		switch {
		case pruneErr == nil:
			outcomes["prune first"]++
			if _, err := r.Find(ctx, "20260101T000000Z-000001"); err == nil {
				t.Fatal("prune succeeded but the backup is still there")
			}
		case errors.As(pruneErr, &le) && len(le.Holders) == 1 && le.Holders[0].Operation == "backup":
			// Either the backup holds the lock, or both tried at once and
			// both withdrew (as two processes may): nothing ran.
			if backupLocked {
				outcomes["backup first"]++
			} else {
				outcomes["both refused"]++
			}
			if err := verifyFiles(ctx, r, s, "20260101T000000Z-000001"); err != nil {
				t.Fatalf("prune refused, but: %v", err)
			}
		default:
			t.Fatalf("prune: %v, want success or LockedError naming the backup", pruneErr)
		}
		if backupLocked && backupErr != nil {
			t.Fatalf("backup: %v", backupErr)
		}
		if !backupLocked && !errors.As(backupErr, &le) {
			t.Fatalf("backup without the lock: %v, want LockedError", backupErr)
		}
		if locks, _ := r.Locks(ctx); len(locks) != 0 {
			t.Fatalf("locks left: %v", locks)
		}
	}
	t.Logf("outcomes of 40 races: %v", outcomes)
}

// verifyFiles checks that backup id is committed with its data file.
func verifyFiles(ctx context.Context, r *repo.Repository, s repo.Store, id string) error {
	m, err := r.Find(ctx, id)
	if err != nil {
		return err
	}
	for _, f := range m.Files() {
		if _, err := s.Stat(ctx, f.Path); err != nil {
			return err
		}
	}
	return nil
}

// TestPruneWaitsForBackupInOneProcess: a prune with a lock wait, started
// in the same process while a backup holds the lock, keeps retrying
// without deleting anything and runs only after the backup released the
// lock; then both backups' fates are as planned.
func TestPruneWaitsForBackupInOneProcess(t *testing.T) {
	ctx := context.Background()
	s := &countingStore{Store: mem.New()}
	r := committedRepo(t, s, "20260101T000000Z-000001")
	var holders atomic.Int32
	locked, proceed := make(chan bool, 1), make(chan struct{})
	backupDone := make(chan error, 1)
	go func() { backupDone <- backupUnderLock(r, s, "20260101T000000Z-000002", &holders, locked, proceed) }()
	if !<-locked {
		t.Fatal("backup did not get the lock")
	}
	before := s.lockPuts.Load()
	var released atomic.Bool
	pruneDone := make(chan error, 1)
	go func() {
		err := pruneUnderLock(r, "20260101T000000Z-000001", &holders, time.Minute)
		if err == nil && !released.Load() {
			err = errors.New("prune ran before the backup released its lock")
		}
		pruneDone <- err
	}()
	for s.lockPuts.Load() < before+3 { // the prune tried and withdrew at least thrice
		time.Sleep(time.Millisecond)
	}
	if err := verifyFiles(ctx, r, s, "20260101T000000Z-000001"); err != nil {
		t.Fatalf("while the prune waited: %v", err)
	}
	released.Store(true)
	close(proceed)
	if err := <-backupDone; err != nil {
		t.Fatal(err)
	}
	if err := <-pruneDone; err != nil {
		t.Fatal(err)
	}
	if _, err := r.Find(ctx, "20260101T000000Z-000001"); err == nil {
		t.Error("the waiting prune did not delete its backup")
	}
	if err := verifyFiles(ctx, r, s, "20260101T000000Z-000002"); err != nil {
		t.Errorf("the backup: %v", err)
	}
}

// TestReadersShareAndExcludeDeletion: a restore's shared lock lets another
// reader in but keeps a delete out, in one process as across processes.
func TestReadersShareAndExcludeDeletion(t *testing.T) {
	ctx := context.Background()
	s := mem.New()
	r := committedRepo(t, s, "20260101T000000Z-000001")
	reader, err := lock(t, r, repo.LockOptions{Operation: "restore"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lock(t, r, repo.LockOptions{Operation: "verify"}); err != nil {
		t.Fatalf("second reader: %v", err)
	}
	var le *repo.LockedError
	if err := r.Delete(ctx, nil, "20260101T000000Z-000001"); !errors.As(err, &le) {
		t.Fatalf("delete under a restore = %v, want LockedError", err)
	}
	if err := r.Delete(ctx, reader, "20260101T000000Z-000001"); err == nil || !strings.Contains(err.Error(), "exclusive") {
		t.Fatalf("delete with the reader's shared lock = %v, want it refused as not exclusive", err)
	}
	if err := verifyFiles(ctx, r, s, "20260101T000000Z-000001"); err != nil {
		t.Fatal(err)
	}
}

// TestHeldLockChecks: a lock passed in must belong to the repository and
// still be held.
func TestHeldLockChecks(t *testing.T) {
	ctx := context.Background()
	r, _ := newRepo(t)
	other, _ := newRepo(t)
	l, _, err := other.Lock(ctx, repo.LockOptions{Exclusive: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.CleanStale(ctx, l); err == nil || !strings.Contains(err.Error(), "not") {
		t.Errorf("CleanStale with another repository's lock = %v, want refused", err)
	}
	l.Unlock()
	if _, err := other.CleanStale(ctx, l); err == nil || !strings.Contains(err.Error(), "no longer held") {
		t.Errorf("CleanStale with a released lock = %v, want refused", err)
	}
}

// fakeClock is a clock a test moves by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *fakeClock) Add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.now = c.now.Add(d) }

// readPending decodes backup id's pending marker.
func readPending(t *testing.T, s repo.Store, id string) repo.Pending {
	t.Helper()
	rc, err := s.Open(context.Background(), "pending/"+id+".json")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var p repo.Pending
	if err := json.NewDecoder(rc).Decode(&p); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestFailedBackupMarkerCleanedByAge runs, in one long-running process
// with a fake clock, a backup whose marker is refreshed while it runs and
// which then fails without cleaning up (its Abort failed). Its process is
// alive, so the former rule ("running while its PID is") would keep it
// forever; now a later backup keeps it while it is younger than the lock's
// StaleAfter and removes it, data and marker, once it is older.
func TestFailedBackupMarkerCleanedByAge(t *testing.T) {
	ctx := context.Background()
	clk := &fakeClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	base, s := newRepo(t)
	r := base.WithClock(clk.Now)
	o := repo.LockOptions{Exclusive: true, Operation: "backup", RefreshEvery: 5 * time.Millisecond, StaleAfter: time.Hour}
	const id = "20260301T120000Z-00000a"

	l, lctx, err := r.Lock(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	stop, err := r.Begin(lctx, l, id)
	if err != nil {
		t.Fatal(err)
	}
	s.Put(ctx, "data/"+id+"/default/c/_default/part-00000.parquet", strings.NewReader("half"))
	clk.Add(50 * time.Minute) // the backup runs on; its marker follows
	deadline := time.Now().Add(10 * time.Second)
	for !readPending(t, s, id).RefreshedAt.Equal(clk.Now()) {
		if time.Now().After(deadline) {
			t.Fatalf("marker not refreshed: %+v, clock %s", readPending(t, s, id), clk.Now())
		}
		time.Sleep(time.Millisecond)
	}
	stop() // the backup fails and its cleanup fails too
	l.Unlock()
	if p := readPending(t, s, id); p.PID != os.Getpid() || !p.StartedAt.Equal(clk.Now().Add(-50*time.Minute)) {
		t.Fatalf("marker %+v, want this process and the start time", p)
	}

	for _, step := range []struct {
		advance   time.Duration
		wantClean bool
	}{{59 * time.Minute, false}, {2 * time.Minute, true}} {
		clk.Add(step.advance)
		l, _, err := r.Lock(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		cleaned, err := r.CleanStale(ctx, l)
		l.Unlock()
		if err != nil {
			t.Fatal(err)
		}
		if got := len(cleaned) == 1 && cleaned[0] == id; got != step.wantClean {
			t.Fatalf("%s after the failure: cleaned %v, want cleaned %v", clk.Now().Sub(readPendingTime(s, id)), cleaned, step.wantClean)
		}
	}
	for _, prefix := range []string{"data/", "pending/"} {
		if files, _ := s.List(ctx, prefix); len(files) != 0 {
			t.Errorf("left under %s: %v", prefix, files)
		}
	}
}

func readPendingTime(s repo.Store, id string) time.Time {
	rc, err := s.Open(context.Background(), "pending/"+id+".json")
	if err != nil {
		return time.Time{}
	}
	defer rc.Close()
	var p repo.Pending
	_ = json.NewDecoder(rc).Decode(&p)
	return p.RefreshedAt
}

// TestLegacyPendingMarkers: markers written before refreshed_at existed
// keep the old rule: alive while their process runs on this host, or for
// 24 hours after they started on another host.
func TestLegacyPendingMarkers(t *testing.T) {
	ctx := context.Background()
	now := time.Now().UTC()
	marker := func(host string, pid int, started time.Time) string {
		data, _ := json.Marshal(map[string]any{"id": "x", "host": host, "pid": pid, "started_at": started})
		return string(data)
	}
	tests := []struct {
		name, marker string
		wantClean    bool
	}{
		{"this host, live process, old", marker(hostname(), os.Getpid(), now.Add(-48*time.Hour)), false},
		{"this host, gone process", marker(hostname(), 999999999, now), true},
		{"other host, 2h", marker("elsewhere", 1, now.Add(-2*time.Hour)), false},
		{"other host, 25h", marker("elsewhere", 1, now.Add(-25*time.Hour)), true},
		{"unreadable", "{", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, s := newRepo(t)
			const id = "20260301T120000Z-00000b"
			s.Put(ctx, "pending/"+id+".json", strings.NewReader(tt.marker))
			s.Put(ctx, "data/"+id+"/x.parquet", strings.NewReader("x"))
			l, err := lock(t, r, repo.LockOptions{Exclusive: true})
			if err != nil {
				t.Fatal(err)
			}
			cleaned, err := r.CleanStale(ctx, l)
			if err != nil || (len(cleaned) == 1) != tt.wantClean {
				t.Fatalf("CleanStale = %v, %v; want cleaned %v", cleaned, err, tt.wantClean)
			}
		})
	}
}

// TestStoppedNamesALostLock: an operation that fails because its lock was
// lost says so (and wraps ErrLockLost); other failures, and failures after
// a normal release, are left alone.
func TestStoppedNamesALostLock(t *testing.T) {
	ctx := context.Background()
	r, s := newRepo(t)
	failure := errors.New("read failed")
	l, lctx, err := r.Lock(ctx, repo.LockOptions{Operation: "restore", RefreshEvery: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if got := l.Stopped("restore", failure); got != failure {
		t.Fatalf("Stopped while held = %v, want the error itself", got)
	}
	// `milvault unlock --remove-all`, repeated: a refresh that raced the
	// removal may have written the file again.
	for lctx.Err() == nil {
		s.Delete(ctx, l.Info().Name)
		time.Sleep(time.Millisecond)
	}
	got := l.Stopped("restore", context.Cause(lctx))
	if !errors.Is(got, repo.ErrLockLost) || !strings.HasPrefix(got.Error(), "restore stopped: ") {
		t.Fatalf("Stopped after the lock was lost = %v, want 'restore stopped' wrapping ErrLockLost", got)
	}
	l.Unlock()
	l2, _, err := r.Lock(ctx, repo.LockOptions{Operation: "verify"})
	if err != nil {
		t.Fatal(err)
	}
	l2.Unlock()
	if got := l2.Stopped("verify", failure); got != failure {
		t.Errorf("Stopped after a release = %v, want the error itself", got)
	}
}

// TestHoldBackupDeletedMeanwhile: a reader that found a backup before it
// took its lock, while a prune deleted the backup, gets a not-found error
// (not missing files read as damage) and leaves no lock behind; a backup
// still committed is held as Hold would.
func TestHoldBackupDeletedMeanwhile(t *testing.T) {
	ctx := context.Background()
	s := mem.New()
	const id = "20260101T000000Z-000001"
	r := committedRepo(t, s, id)
	l, release, err := func() (*repo.Lock, func(), error) {
		l, _, release, err := r.HoldBackup(ctx, nil, repo.LockOptions{Operation: "restore"}, id)
		return l, release, err
	}()
	if err != nil || l == nil {
		t.Fatalf("HoldBackup of a committed backup = %v, %v", l, err)
	}
	release()
	if err := r.Delete(ctx, nil, id); err != nil {
		t.Fatal(err)
	}
	_, _, _, err = r.HoldBackup(ctx, nil, repo.LockOptions{Operation: "restore"}, id)
	var nf *repo.BackupNotFoundError
	if !errors.As(err, &nf) || nf.Ref != id {
		t.Fatalf("HoldBackup of a deleted backup = %v, want BackupNotFoundError for %s", err, id)
	}
	if locks, err := r.Locks(ctx); err != nil || len(locks) != 0 {
		t.Fatalf("locks left after the refusal: %v, %v", locks, err)
	}
}
