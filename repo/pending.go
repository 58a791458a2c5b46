package repo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/milvault/milvault/manifest"
)

// Pending marks a backup in progress. Data files of a backup that has a
// pending marker but no manifest belong to a running or interrupted backup;
// they are never shown as a backup. The writer rewrites RefreshedAt while it
// runs (see Begin), so a marker goes stale by age.
type Pending struct {
	ID        string    `json:"id"`
	Host      string    `json:"host"`
	PID       int       `json:"pid"`
	StartedAt time.Time `json:"started_at"`
	// RefreshedAt is the last time the writer said it was alive. Markers
	// written before milvault refreshed them have none (see isRunning).
	RefreshedAt time.Time `json:"refreshed_at,omitempty"`
}

// legacyStaleAfter is how long a marker without RefreshedAt, from another
// host, is trusted.
const legacyStaleAfter = 24 * time.Hour

func pendingPath(id string) string { return "pending/" + id + ".json" }

// Begin records that backup (or copy) id is starting under held, a lock on
// r (backups hold shared locks, copies exclusive ones), and rewrites the marker's RefreshedAt every time the lock is
// refreshed until stop is called or the lock ends. Callers call stop (it is
// idempotent) before Commit or Abort, so that no refresh recreates the
// marker they remove.
func (r *Repository) Begin(ctx context.Context, held *Lock, id string) (stop func(), err error) {
	if err := held.check(r, false); err != nil {
		return nil, fmt.Errorf("start backup %s: %w", id, err)
	}
	host, _ := os.Hostname()
	now := r.now().UTC()
	p := Pending{ID: id, Host: host, PID: os.Getpid(), StartedAt: now, RefreshedAt: now}
	if err := r.writePending(ctx, p); err != nil {
		return nil, fmt.Errorf("start backup %s: %w", id, err)
	}
	quit, done := make(chan struct{}), make(chan struct{})
	go r.refreshPending(held, p, quit, done)
	var once sync.Once
	return func() { once.Do(func() { close(quit); <-done }) }, nil
}

// refreshPending rewrites p every held.opts.RefreshEvery until quit closes
// or the lock ends. A failed rewrite is retried at the next tick: the lock,
// refreshed on the same schedule, ends the operation long before the marker
// could be judged stale.
func (r *Repository) refreshPending(held *Lock, p Pending, quit <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(held.opts.RefreshEvery)
	defer t.Stop()
	for {
		select {
		case <-quit:
			return
		case <-held.ctx.Done():
			return
		case <-t.C:
		}
		p.RefreshedAt = r.now().UTC()
		_ = r.writePending(held.ctx, p)
	}
}

func (r *Repository) writePending(ctx context.Context, p Pending) error {
	public := Pending{ID: p.ID, StartedAt: p.StartedAt, RefreshedAt: p.RefreshedAt}
	return r.putRecord(ctx, pendingPath(p.ID), p, public)
}

// Abort removes what an uncommitted backup wrote. It is used on failure; a
// backup killed before it could abort is cleaned by CleanStale.
func (r *Repository) Abort(ctx context.Context, id string) error {
	if err := r.deleteData(ctx, id); err != nil {
		return err
	}
	return r.store.Delete(ctx, pendingPath(id))
}

// CleanStale removes the leftovers of interrupted backups: data folders with
// no manifest whose pending marker is missing, unreadable or stale (see
// isRunning), except sharded backups (see WriteShardRecord). It returns the ids it cleaned.
//
// CleanStale needs held, an exclusive lock on r: backups run under shared
// locks, so under an exclusive one none is running (only stale ones whose
// lock expired), and without it a running backup or copy could lose its
// files. A marker is stale when it was not
// refreshed for the lock's StaleAfter.
func (r *Repository) CleanStale(ctx context.Context, held *Lock) ([]string, error) {
	if err := held.check(r, true); err != nil {
		return nil, fmt.Errorf("clean interrupted backups: %w", err)
	}
	ids, err := r.uncommittedIDs(ctx)
	if err != nil {
		return nil, err
	}
	var cleaned []string
	for _, id := range ids {
		if r.isRunning(ctx, id, held.opts.StaleAfter) || r.isSharded(ctx, id) {
			continue
		}
		if err := r.Abort(ctx, id); err != nil {
			return cleaned, fmt.Errorf("clean interrupted backup %s: %w", id, err)
		}
		cleaned = append(cleaned, id)
	}
	return cleaned, nil
}

// HasLeftovers reports, without a lock, whether CleanStale or
// RemoveStaleSpools would find anything: an uncommitted backup whose marker
// is not alive (judged with DefaultLockStaleAfter), or a spool file. A
// running backup's spool files count too; only the cleanup, under an
// exclusive lock, can tell them apart. It lets a backup skip the exclusive
// lock when there is nothing to clean.
func (r *Repository) HasLeftovers(ctx context.Context) (bool, error) {
	if dir, err := r.store.SpoolDir(ctx); err == nil {
		if spools, _ := filepath.Glob(filepath.Join(dir, spoolPattern)); len(spools) > 0 {
			return true, nil
		}
	}
	ids, err := r.uncommittedIDs(ctx)
	if err != nil {
		return false, err
	}
	for _, id := range ids {
		if !r.isRunning(ctx, id, DefaultLockStaleAfter) && !r.isSharded(ctx, id) {
			return true, nil
		}
	}
	return false, nil
}

// uncommittedIDs lists ids that have data or a pending marker but no manifest.
func (r *Repository) uncommittedIDs(ctx context.Context) ([]string, error) {
	candidates := map[string]bool{}
	for _, prefix := range []string{"data/", "pending/"} {
		files, err := r.store.List(ctx, prefix)
		if err != nil {
			return nil, fmt.Errorf("look for interrupted backups: %w", err)
		}
		for _, f := range files {
			rest := strings.TrimPrefix(f.Name, prefix)
			id, _, _ := strings.Cut(rest, "/")
			candidates[strings.TrimSuffix(id, ".json")] = true
		}
	}
	if fl, ok := r.store.(FolderLister); ok {
		dirs, err := fl.Folders(ctx, "data/")
		if err != nil {
			return nil, fmt.Errorf("look for interrupted backups: %w", err)
		}
		for _, d := range dirs {
			candidates[d] = true
		}
	}
	var out []string
	for id := range candidates {
		if manifest.ValidateRef("id", id) != nil {
			continue
		}
		if _, err := r.store.Stat(ctx, manifest.Path(id)); errors.Is(err, ErrNotFound) {
			out = append(out, id)
		}
	}
	return out, nil
}

// isRunning reports whether backup id's pending marker says it may still be
// written. A marker with RefreshedAt is alive while it was refreshed within
// staleAfter and its process, when on this host, still runs; a process
// that keeps running (a service) therefore no longer keeps a failed
// backup's marker alive forever. A marker written by an older milvault
// (no RefreshedAt) keeps the old rule: alive while its process runs on this
// host, or for 24 hours after it started on another host.
func (r *Repository) isRunning(ctx context.Context, id string, staleAfter time.Duration) bool {
	var p Pending
	if _, err := r.getRecord(ctx, pendingPath(id), &p); err != nil {
		return false
	}
	host, _ := os.Hostname()
	if p.Host == host && !processAlive(p.PID) {
		return false
	}
	if p.RefreshedAt.IsZero() {
		return p.Host == host || r.now().Sub(p.StartedAt) < legacyStaleAfter
	}
	return r.now().Sub(p.RefreshedAt) <= staleAfter
}

func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
