package e2e

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/milvault/milvault/internal/testenv"
	"github.com/milvault/milvault/progress"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/local"
)

// proc is a milvault process started by a test.
type proc struct {
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
	start          time.Time
}

func startCLI(t *testing.T, bin string, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(bin, args...), start: time.Now()}
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.cmd.Process.Kill(); p.cmd.Wait() })
	return p
}

// wait returns the exit code.
func (p *proc) wait() int {
	err := p.cmd.Wait()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// TestConcurrentBackupsLock runs real `milvault backup` processes against
// one repository: while the first runs (slowed down by --upload-limit) and
// holds its shared lock, a second backup runs alongside it and succeeds, a
// prune without --lock-wait fails at once naming the backup (exit 6), and a
// prune with --lock-wait waits for both and then succeeds without deleting
// anything (--keep-last 5). Both backups verify and nothing is left in
// locks/ or pending/.
func TestConcurrentBackupsLock(t *testing.T) {
	for _, tg := range targets(t) {
		t.Run(tg.name, func(t *testing.T) {
			e := newEnv(t, tg.addr)
			bin := binary(t, e.root)
			coll := testenv.Collection(t, e.client, "e2e_lock", 20000, 32)
			dir := newRepo(t)
			base := []string{"--milvus", e.addr, "--repo", dir, "-q"}
			first := startCLI(t, bin, append(base, "--upload-limit", "256KiB", "backup", "-c", coll, "--name", "first")...)
			waitForLocks(t, dir, first, 1)

			// The second backup may look for locks while the prune below
			// tries the exclusive one: a refused exclusive attempt briefly
			// shows its lock file, so the second backup waits out such a
			// moment (--lock-wait) instead of being refused with it.
			second := startCLI(t, bin, append(base, "backup", "-c", coll, "--name", "second", "--lock-wait", "5m")...)
			rejected := startCLI(t, bin, append(base, "prune", "--keep-last", "5")...)
			code := rejected.wait()
			msg := rejected.stderr.String()
			if code != 6 || !strings.Contains(msg, "is locked") || !strings.Contains(msg, "for backup by pid") {
				t.Errorf("prune without --lock-wait during a backup: exit %d, stderr %q; want exit 6 naming a backup", code, msg)
			}
			waiter := startCLI(t, bin, append(base, "prune", "--keep-last", "5", "--lock-wait", "5m")...)
			if code := second.wait(); code != 0 {
				t.Fatalf("second backup, alongside the first: exit %d, stderr %s", code, second.stderr.String())
			}
			if code := first.wait(); code != 0 {
				t.Fatalf("first backup: exit %d, stderr %s", code, first.stderr.String())
			}
			if code := waiter.wait(); code != 0 {
				t.Fatalf("waiting prune: exit %d, stderr %s", code, waiter.stderr.String())
			}
			t.Logf("first backup took %s; the prune without --lock-wait exited %d with %q",
				time.Since(first.start).Round(time.Millisecond), code, strings.TrimSpace(msg))
			checkIntact(t, dir, 2)
		})
	}
}

// waitForLocks waits until dir holds n locks, the last of them taken by
// the backup p.
func waitForLocks(t *testing.T, dir string, p *proc, n int) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		if len(listDir(t, filepath.Join(dir, "locks"))) >= n {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("fewer than %d locks appeared; backup stderr: %s", n, p.stderr.String())
}

// checkIntact verifies every backup in dir and that no lock or pending
// marker is left.
func checkIntact(t *testing.T, dir string, want int) {
	t.Helper()
	ctx := context.Background()
	s, err := local.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	r, err := repo.Open(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	list, problems, err := r.List(ctx)
	if err != nil || len(list) != want || len(problems) != 0 {
		t.Fatalf("list: %d backups, problems %v, %v; want %d", len(list), problems, err, want)
	}
	for _, m := range list {
		if err := r.CheckFiles(ctx, m, m.Files(), progress.Nop); err != nil {
			t.Errorf("backup %s: %v", m.ID, err)
		}
	}
	for _, sub := range []string{"locks", "pending"} {
		if left := listDir(t, filepath.Join(dir, sub)); len(left) != 0 {
			t.Errorf("%s/ holds %v after both backups", sub, left)
		}
	}
}

// TestUnlockRemovesStaleLocks checks `milvault unlock` on a lock of a dead
// process and `--remove-all` on a live one.
func TestUnlockRemovesStaleLocks(t *testing.T) {
	dir := t.TempDir()
	s, _ := local.New(dir)
	r, err := repo.OpenOrInit(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	now := time.Now().UTC().Format(time.RFC3339)
	os.MkdirAll(filepath.Join(dir, "locks"), 0o755)
	os.WriteFile(filepath.Join(dir, "locks", "dead.json"), []byte(`{"exclusive":true,"operation":"backup","host":"`+host+`","pid":999999999,"created":"`+now+`","refreshed":"`+now+`"}`), 0o644)
	l, _, err := r.Lock(context.Background(), repo.LockOptions{Operation: "restore"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Unlock()
	res := runCLI(t, "--repo", dir, "unlock")
	if res.code != 0 || !strings.Contains(res.stdout, "removed locks/dead.json") || !strings.Contains(res.stdout, "kept "+l.Info().Name) {
		t.Fatalf("unlock: %s", res)
	}
	res = runCLI(t, "--repo", dir, "unlock", "--remove-all")
	if res.code != 0 || !strings.Contains(res.stdout, "removed "+l.Info().Name) {
		t.Fatalf("unlock --remove-all: %s", res)
	}
}
