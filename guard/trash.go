package guard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/milvault/milvault/errkind"
	"github.com/milvault/milvault/repo"
)

// TrashPrefix is the folder of the trash index in the repository.
const TrashPrefix = "guard/trash/"

// trashNamePrefix starts the name of every collection in the trash.
const trashNamePrefix = "__milvault_trash_"

// Server is what the trash needs from Milvus; *milvus.Client has it.
type Server interface {
	RenameCollection(ctx context.Context, db, from, to string) error
	Aliases(ctx context.Context, db, coll string) ([]string, error)
	CreateAlias(ctx context.Context, db, coll, alias string) error
	DropAlias(ctx context.Context, db, alias string) error
	DropCollection(ctx context.Context, db, coll string) error
	HasCollection(ctx context.Context, db, name string) (bool, error)
	LoadState(ctx context.Context, db, coll string, partitions ...string) (string, error)
	Load(ctx context.Context, db, coll string, partitions []string) error
	Release(ctx context.Context, db, coll string) error
}

// Item is one collection in the trash: a record of the repository's trash
// index, written before the collection is renamed.
type Item struct {
	// Name is the collection's name in the trash (same database).
	Name       string    `json:"name"`
	Database   string    `json:"database"`
	Collection string    `json:"collection"` // its name before the drop
	Aliases    []string  `json:"aliases,omitempty"`
	Loaded     bool      `json:"loaded,omitempty"`
	DroppedAt  time.Time `json:"dropped_at"`
	Principal  string    `json:"principal,omitempty"` // Milvus user of the drop, when known
}

// TrashName returns the name a collection gets in the trash.
func TrashName(coll string, at time.Time) string {
	return trashNamePrefix + strconv.FormatInt(at.Unix(), 10) + "_" + coll
}

// recordPath is where the index record of a trash collection lives.
func recordPath(db, name string) string { return TrashPrefix + db + "." + name + ".json" }

// Trash moves dropped collections into the trash and back. Repo holds the
// index and the audit trail; Milvus is the server, with the credentials of
// whoever acts.
type Trash struct {
	Repo   *repo.Repository
	Milvus Server
	Now    func() time.Time // nil means time.Now
}

func (t *Trash) now() time.Time {
	if t.Now == nil {
		return time.Now()
	}
	return t.Now()
}

// Move puts a collection into the trash instead of dropping it: it records
// the item (with the collection's aliases and load state), drops the
// aliases, renames the collection and releases it. A failure before the
// rename removes the record and restores the aliases, so that the
// collection is left as it was.
func (t *Trash) Move(ctx context.Context, db, coll, principal string) (Item, error) {
	it := Item{Name: TrashName(coll, t.now()), Database: db, Collection: coll, DroppedAt: t.now().UTC(), Principal: principal}
	aliases, err := t.Milvus.Aliases(ctx, db, coll)
	if err != nil {
		return it, err
	}
	it.Aliases = aliases
	state, err := t.Milvus.LoadState(ctx, db, coll)
	if err != nil {
		return it, err
	}
	it.Loaded = state == "loaded" || state == "loading"
	if err := t.writeItem(ctx, it); err != nil {
		return it, err
	}
	if err := t.moveOnServer(ctx, it); err != nil {
		t.Repo.DeleteMetaFile(context.WithoutCancel(ctx), recordPath(db, it.Name))
		return it, err
	}
	if it.Loaded {
		// Like a drop, the move frees the memory; Restore loads it again.
		if err := t.Milvus.Release(ctx, db, it.Name); err != nil {
			return it, fmt.Errorf("moved %s.%s to the trash as %s, but could not release it: %w", db, coll, it.Name, err)
		}
	}
	return it, nil
}

// moveOnServer drops the aliases and renames the collection; when the
// rename fails it creates the aliases again.
func (t *Trash) moveOnServer(ctx context.Context, it Item) error {
	for i, a := range it.Aliases {
		if err := t.Milvus.DropAlias(ctx, it.Database, a); err != nil {
			t.recreateAliases(ctx, it.Database, it.Collection, it.Aliases[:i])
			return err
		}
	}
	if err := t.Milvus.RenameCollection(ctx, it.Database, it.Collection, it.Name); err != nil {
		t.recreateAliases(ctx, it.Database, it.Collection, it.Aliases)
		return err
	}
	return nil
}

func (t *Trash) recreateAliases(ctx context.Context, db, coll string, aliases []string) error {
	var errs []error
	for _, a := range aliases {
		errs = append(errs, t.Milvus.CreateAlias(context.WithoutCancel(ctx), db, coll, a))
	}
	return errors.Join(errs...)
}

func (t *Trash) writeItem(ctx context.Context, it Item) error {
	data, err := json.MarshalIndent(it, "", "  ")
	if err != nil {
		return err
	}
	return t.Repo.WriteMetaFile(ctx, recordPath(it.Database, it.Name), data)
}

// List returns the items of the trash, oldest first.
func (t *Trash) List(ctx context.Context) ([]Item, error) {
	files, err := t.Repo.ListMetaFiles(ctx, TrashPrefix)
	if err != nil {
		return nil, err
	}
	var items []Item
	for _, f := range files {
		if !strings.HasSuffix(f.Name, ".json") {
			continue
		}
		data, err := t.Repo.ReadMetaFile(ctx, f.Name)
		if err != nil {
			return nil, err
		}
		var it Item
		if err := json.Unmarshal(data, &it); err != nil {
			return nil, fmt.Errorf("trash record %s: %w", f.Name, err)
		}
		items = append(items, it)
	}
	sort.Slice(items, func(i, j int) bool { return items[i].DroppedAt.Before(items[j].DroppedAt) })
	return items, nil
}

// NotInTrashError reports a name that matches no item of the trash.
type NotInTrashError struct {
	Name      string
	Available []string
}

func (e *NotInTrashError) Error() string {
	if len(e.Available) == 0 {
		return fmt.Sprintf("%q is not in the trash: the trash is empty", e.Name)
	}
	return fmt.Sprintf("%q is not in the trash; it holds %s (see `milvault trash list`)", e.Name, strings.Join(e.Available, ", "))
}

// Kind classifies the error for exit codes.
func (*NotInTrashError) Kind() errkind.Kind { return errkind.NotFound }

// AmbiguousError reports an original name that several trash items had.
type AmbiguousError struct {
	Name    string
	Matches []string
}

func (e *AmbiguousError) Error() string {
	return fmt.Sprintf("%q was dropped %d times; name the one to restore by its trash name: %s", e.Name, len(e.Matches), strings.Join(e.Matches, ", "))
}

// Kind classifies the error for exit codes.
func (*AmbiguousError) Kind() errkind.Kind { return errkind.Usage }

// Find returns the item named by its trash name or by its original
// collection name (then it must be the only one of that name).
func (t *Trash) Find(ctx context.Context, db, name string) (Item, error) {
	items, err := t.List(ctx)
	if err != nil {
		return Item{}, err
	}
	var byOriginal []Item
	var names []string
	for _, it := range items {
		if db != "" && it.Database != db {
			continue
		}
		if it.Name == name {
			return it, nil
		}
		if it.Collection == name {
			byOriginal = append(byOriginal, it)
		}
		names = append(names, it.Name)
	}
	switch len(byOriginal) {
	case 1:
		return byOriginal[0], nil
	case 0:
		return Item{}, &NotInTrashError{Name: name, Available: names}
	}
	var matches []string
	for _, it := range byOriginal {
		matches = append(matches, it.Name)
	}
	return Item{}, &AmbiguousError{Name: name, Matches: matches}
}
