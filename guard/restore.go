package guard

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/milvault/milvault/audit"
	"github.com/milvault/milvault/errkind"
	"github.com/milvault/milvault/repo"
)

// Audit operations of the guard and the trash.
const (
	OpDrop    = "guard.drop"    // a drop intercepted by the guard
	OpRefuse  = "guard.refuse"  // a drop the guard refused
	OpRestore = "trash.restore" // a collection taken back out of the trash
	OpPurge   = "trash.purge"   // a trash collection dropped for real
)

// TakenError reports a restore whose target name is in use.
type TakenError struct{ Database, Name string }

func (e *TakenError) Error() string {
	return fmt.Sprintf("a collection %s.%s exists already: drop or rename it, or restore under another name (--as NAME)", e.Database, e.Name)
}

// Kind classifies the error for exit codes.
func (*TakenError) Kind() errkind.Kind { return errkind.Conflict }

// Restore takes an item out of the trash: it renames the collection back
// (to as, or its original name when as is empty), creates its aliases
// again, loads it when it was loaded, removes the record and writes an
// audit entry.
func (t *Trash) Restore(ctx context.Context, it Item, as string) error {
	if as == "" {
		as = it.Collection
	}
	err := t.restore(ctx, it, as)
	t.audit(ctx, OpRestore, it, map[string]any{"trash_name": it.Name, "restored_as": as}, err)
	return err
}

func (t *Trash) restore(ctx context.Context, it Item, as string) error {
	taken, err := t.Milvus.HasCollection(ctx, it.Database, as)
	if err != nil {
		return err
	}
	if taken {
		return &TakenError{Database: it.Database, Name: as}
	}
	if err := t.Milvus.RenameCollection(ctx, it.Database, it.Name, as); err != nil {
		return err
	}
	if err := t.recreateAliases(ctx, it.Database, as, it.Aliases); err != nil {
		return fmt.Errorf("restored %s.%s, but not all its aliases (%v): %w", it.Database, as, it.Aliases, err)
	}
	if it.Loaded {
		if err := t.Milvus.Load(ctx, it.Database, as, nil); err != nil {
			return fmt.Errorf("restored %s.%s, but could not load it: %w", it.Database, as, err)
		}
	}
	return t.Repo.DeleteMetaFile(ctx, recordPath(it.Database, it.Name))
}

// Purge drops for real every trash collection dropped before cutoff (all
// of them when cutoff is zero) and returns the items purged.
func (t *Trash) Purge(ctx context.Context, cutoff time.Time) ([]Item, error) {
	items, err := t.List(ctx)
	if err != nil {
		return nil, err
	}
	var purged []Item
	var errs []error
	for _, it := range items {
		if !cutoff.IsZero() && !it.DroppedAt.Before(cutoff) {
			continue
		}
		err := t.purge(ctx, it)
		t.audit(ctx, OpPurge, it, map[string]any{"trash_name": it.Name}, err)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		purged = append(purged, it)
	}
	return purged, errors.Join(errs...)
}

func (t *Trash) purge(ctx context.Context, it Item) error {
	exists, err := t.Milvus.HasCollection(ctx, it.Database, it.Name)
	if err != nil {
		return err
	}
	if exists {
		if err := t.Milvus.DropCollection(ctx, it.Database, it.Name); err != nil {
			return err
		}
	}
	return t.Repo.DeleteMetaFile(ctx, recordPath(it.Database, it.Name))
}

// audit writes an entry for an action on a trash item. An audit failure
// does not undo the action; it is reported with the action's outcome.
func (t *Trash) audit(ctx context.Context, op string, it Item, params map[string]any, err error) {
	recordAudit(ctx, t.Repo, op, it.Database, it.Collection, "", params, err)
}

// recordAudit writes one audit entry; its own failure is ignored because
// the action it describes has happened (or failed) already.
func recordAudit(ctx context.Context, r *repo.Repository, op, db, coll, principal string, params map[string]any, err error) {
	if params == nil {
		params = map[string]any{}
	}
	params["database"] = db
	e := audit.Entry{Operation: op, Params: params, Collections: []string{db + "." + coll}, Principal: principal}
	e.Outcome(err)
	audit.Record(context.WithoutCancel(ctx), r, e)
}
