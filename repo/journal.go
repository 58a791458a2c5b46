package repo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/milvault/milvault/manifest"
)

// A journal is the progress record of a backup being written: which data
// files it has stored and where each ends, so that an interrupted backup
// can be resumed instead of started over. It lives in the backup's data
// folder (data/<id>/journal.json), so that aborting or cleaning up the
// backup removes it with the data; its content is the writer's business.

func journalPath(id string) string { return manifest.DataPrefix(id) + "journal.json" }

// WriteJournal replaces backup id's journal with data. The backup must be
// uncommitted and begun (see Begin).
func (r *Repository) WriteJournal(ctx context.Context, id string, data []byte) error {
	data, err := r.sealBytes(data) // it names collections: encrypted like a manifest
	if err != nil {
		return fmt.Errorf("record progress of backup %s: %w", id, err)
	}
	if err := r.store.Put(ctx, journalPath(id), bytes.NewReader(data)); err != nil {
		return fmt.Errorf("record progress of backup %s: %w", id, err)
	}
	return nil
}

// ReadJournal returns backup id's journal; the error wraps ErrNotFound when
// it has none.
func (r *Repository) ReadJournal(ctx context.Context, id string) ([]byte, error) {
	rc, err := r.store.Open(ctx, journalPath(id))
	if err != nil {
		return nil, fmt.Errorf("progress of backup %s: %w", id, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		return nil, fmt.Errorf("progress of backup %s: %w", id, err)
	}
	return r.unsealBytes(journalPath(id), data)
}

// DeleteJournal removes backup id's journal once the backup is committed.
func (r *Repository) DeleteJournal(ctx context.Context, id string) error {
	err := r.store.Delete(ctx, journalPath(id))
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// Resumable returns the ids of uncommitted backups that have a journal and
// whose writer no longer runs (judged as CleanStale judges it, with
// DefaultLockStaleAfter), oldest first.
func (r *Repository) Resumable(ctx context.Context) ([]string, error) {
	ids, err := r.uncommittedIDs(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, id := range ids {
		if r.isRunning(ctx, id, DefaultLockStaleAfter) || r.isSharded(ctx, id) {
			continue
		}
		if _, err := r.store.Stat(ctx, journalPath(id)); err == nil {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out, nil
}

// Suspend removes backup id's pending marker and keeps its data, so that
// the backup counts as interrupted at once: Resumable lists it (when it has
// a journal), and a cleanup removes it unless it is resumed first.
func (r *Repository) Suspend(ctx context.Context, id string) error {
	if err := r.store.Delete(ctx, pendingPath(id)); err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("suspend backup %s: %w", id, err)
	}
	return nil
}
