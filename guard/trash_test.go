package guard

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/metadata"
)

// fakeServer is a Server in memory: collections with their aliases. It
// fails RenameCollection when failRename is set.
type fakeServer struct {
	colls      map[string][]string // name -> aliases
	failRename bool
}

func (f *fakeServer) RenameCollection(_ context.Context, _, from, to string) error {
	if f.failRename {
		return errors.New("rename refused")
	}
	f.colls[to] = f.colls[from]
	delete(f.colls, from)
	return nil
}

func (f *fakeServer) Aliases(_ context.Context, _, coll string) ([]string, error) {
	return slices.Clone(f.colls[coll]), nil
}

func (f *fakeServer) CreateAlias(_ context.Context, _, coll, alias string) error {
	f.colls[coll] = append(f.colls[coll], alias)
	return nil
}

func (f *fakeServer) DropAlias(_ context.Context, _, alias string) error {
	for c, as := range f.colls {
		f.colls[c] = slices.DeleteFunc(as, func(a string) bool { return a == alias })
	}
	return nil
}

func (f *fakeServer) DropCollection(_ context.Context, _, coll string) error {
	delete(f.colls, coll)
	return nil
}

func (f *fakeServer) HasCollection(_ context.Context, _, name string) (bool, error) {
	_, ok := f.colls[name]
	return ok, nil
}

func (f *fakeServer) LoadState(context.Context, string, string, ...string) (string, error) {
	return "not_loaded", nil
}
func (f *fakeServer) Load(context.Context, string, string, []string) error { return nil }
func (f *fakeServer) Release(context.Context, string, string) error        { return nil }

// TestMoveFailureLeavesCollection proves that a rename the server refuses
// leaves the collection as it was: aliases back, no trash record.
func TestMoveFailureLeavesCollection(t *testing.T) {
	srv := &fakeServer{colls: map[string][]string{"c": {"a1", "a2"}}, failRename: true}
	tr := &Trash{Repo: testRepo(t), Milvus: srv}
	ctx := context.Background()
	if _, err := tr.Move(ctx, "default", "c", ""); err == nil {
		t.Fatal("Move succeeded with a failing rename")
	}
	if got := srv.colls["c"]; !slices.Equal(got, []string{"a1", "a2"}) {
		t.Errorf("aliases after a failed move: got %v, want [a1 a2]", got)
	}
	if items, err := tr.List(ctx); err != nil || len(items) != 0 {
		t.Errorf("trash after a failed move: %v, %v; want empty", items, err)
	}
}

// TestFindAndRestoreConflicts covers finding by either name, a name
// dropped twice, and a restore onto a name in use.
func TestFindAndRestoreConflicts(t *testing.T) {
	srv := &fakeServer{colls: map[string][]string{"c": {"a"}}}
	now := time.Unix(1000, 0)
	tr := &Trash{Repo: testRepo(t), Milvus: srv, Now: func() time.Time { return now }}
	ctx := context.Background()
	first, err := tr.Move(ctx, "default", "c", "")
	if err != nil {
		t.Fatal(err)
	}
	srv.colls["c"] = nil
	now = now.Add(time.Second)
	if _, err := tr.Move(ctx, "default", "c", ""); err != nil {
		t.Fatal(err)
	}
	var amb *AmbiguousError
	if _, err := tr.Find(ctx, "", "c"); !errors.As(err, &amb) || len(amb.Matches) != 2 {
		t.Fatalf("find c dropped twice: got %v, want an AmbiguousError with 2 matches", err)
	}
	var missing *NotInTrashError
	if _, err := tr.Find(ctx, "", "nope"); !errors.As(err, &missing) || len(missing.Available) != 2 {
		t.Fatalf("find nope: got %v, want NotInTrashError listing 2", err)
	}
	it, err := tr.Find(ctx, "", first.Name)
	if err != nil || it.Collection != "c" || !slices.Equal(it.Aliases, []string{"a"}) {
		t.Fatalf("find by trash name: got %+v, %v", it, err)
	}
	srv.colls["c"] = nil // a new collection took the name
	var taken *TakenError
	if err := tr.Restore(ctx, it, ""); !errors.As(err, &taken) {
		t.Fatalf("restore onto a taken name: got %v, want TakenError", err)
	}
	if err := tr.Restore(ctx, it, "c_back"); err != nil {
		t.Fatal(err)
	}
	if got := srv.colls["c_back"]; !slices.Equal(got, []string{"a"}) {
		t.Errorf("aliases of the restored collection: got %v, want [a]", got)
	}
	purged, err := tr.Purge(ctx, time.Time{})
	if err != nil || len(purged) != 1 || len(srv.colls) != 2 {
		t.Errorf("purge: got %v, %v, server %v; want the one item left purged", purged, err, srv.colls)
	}
}

func TestConfigValidate(t *testing.T) {
	backup := func(context.Context, string, string) (string, error) { return "", nil }
	tests := []struct {
		cfg  Config
		want string // "" for valid
	}{
		{Config{}, ""},
		{Config{Collections: "shred"}, "want trash, backup, refuse or allow"},
		{Config{Collections: PolicyBackup}, "needs a way to take backups"},
		{Config{Collections: PolicyBackup, Backup: backup}, ""},
		{Config{Partitions: PolicyTrash}, "want refuse, backup or allow"},
		{Config{Databases: PolicyBackup}, "needs a way to take backups"},
		{Config{Partitions: PolicyBackup, Databases: PolicyBackup, BackupScope: func(context.Context, Scope) (string, error) { return "", nil }}, ""},
		{Config{Deletes: DeleteLimit{MaxShare: 1.5}}, "above 0 and below 1"},
		{Config{Deletes: DeleteLimit{MaxShare: 0.2, Policy: PolicyBackup}}, "needs a way to take backups"},
		{Config{Deletes: DeleteLimit{MaxShare: 0.2, Policy: PolicyAllow}}, "want refuse or backup"},
	}
	for _, tt := range tests {
		err := tt.cfg.withDefaults().validate()
		if (tt.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%+v: got %v, want %q", tt.cfg, err, tt.want)
		}
	}
}

func TestCallerHeaders(t *testing.T) {
	tests := []struct {
		md            metadata.MD
		field         string
		wantDB, wantP string
	}{
		{metadata.MD{}, "", "default", ""},
		{metadata.Pairs("dbname", "sales"), "", "sales", ""},
		{metadata.Pairs("dbname", "sales"), "hr", "hr", ""},
		{metadata.Pairs("authorization", "cm9vdDpNaWx2dXM="), "", "default", "root"},
		{metadata.Pairs("authorization", "not base64!"), "", "default", "token"},
	}
	for _, tt := range tests {
		ctx := metadata.NewOutgoingContext(context.Background(), tt.md)
		if got := database(ctx, tt.field); got != tt.wantDB {
			t.Errorf("database(%v, %q) = %q, want %q", tt.md, tt.field, got, tt.wantDB)
		}
		if got := principal(ctx); got != tt.wantP {
			t.Errorf("principal(%v) = %q, want %q", tt.md, got, tt.wantP)
		}
	}
}
