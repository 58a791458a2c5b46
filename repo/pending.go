package repo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/milvault/milvault/manifest"
)

// Pending marks a backup in progress. Data files of a backup that has a
// pending marker but no manifest belong to a running or interrupted backup;
// they are never shown as a backup.
type Pending struct {
	ID        string    `json:"id"`
	Host      string    `json:"host"`
	PID       int       `json:"pid"`
	StartedAt time.Time `json:"started_at"`
}

// staleAfter is how long a pending marker from another host is trusted.
const staleAfter = 24 * time.Hour

func pendingPath(id string) string { return "pending/" + id + ".json" }

// Begin records that backup id is starting in this process.
func (r *Repository) Begin(ctx context.Context, id string) error {
	host, _ := os.Hostname()
	p := Pending{ID: id, Host: host, PID: os.Getpid(), StartedAt: r.now().UTC()}
	data, _ := json.Marshal(p)
	if err := r.store.Put(ctx, pendingPath(id), bytes.NewReader(data)); err != nil {
		return fmt.Errorf("start backup %s: %w", id, err)
	}
	return nil
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
// no manifest whose pending marker is missing, unreadable, or belongs to a
// process that no longer runs (on this host) or started over 24 hours ago
// (on another host). It returns the ids it cleaned.
//
// CleanStale needs an exclusive lock held through r (see Lock): without it
// a backup or copy running in another process could lose its files.
func (r *Repository) CleanStale(ctx context.Context) ([]string, error) {
	if !r.HoldsExclusiveLock() {
		return nil, errors.New("clean interrupted backups: lock the repository exclusively first")
	}
	ids, err := r.uncommittedIDs(ctx)
	if err != nil {
		return nil, err
	}
	var cleaned []string
	for _, id := range ids {
		if r.isRunning(ctx, id) {
			continue
		}
		if err := r.Abort(ctx, id); err != nil {
			return cleaned, fmt.Errorf("clean interrupted backup %s: %w", id, err)
		}
		cleaned = append(cleaned, id)
	}
	return cleaned, nil
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

func (r *Repository) isRunning(ctx context.Context, id string) bool {
	rc, err := r.store.Open(ctx, pendingPath(id))
	if err != nil {
		return false
	}
	defer rc.Close()
	var p Pending
	if json.NewDecoder(rc).Decode(&p) != nil {
		return false
	}
	host, _ := os.Hostname()
	if p.Host != host {
		return r.now().Sub(p.StartedAt) < staleAfter
	}
	return processAlive(p.PID)
}

func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
