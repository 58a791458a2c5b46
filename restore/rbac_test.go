package restore

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/milvault/milvault/errkind"
	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/milvus"
)

var (
	grantQ = manifest.RBACGrant{Object: "Collection", ObjectName: "docs", Privilege: "Query", Database: "default"}
	grantI = manifest.RBACGrant{Object: "Collection", ObjectName: "docs", Privilege: "Insert", Database: "default"}
	backed = &manifest.RBAC{
		Users: []manifest.RBACUser{{Name: "root"}, {Name: "ann", Roles: []string{"reader"}}, {Name: "ben", Roles: []string{"reader", "writer"}}},
		Roles: []manifest.RBACRole{{Name: "reader", Grants: []manifest.RBACGrant{grantQ}}, {Name: "writer", Grants: []manifest.RBACGrant{grantI}}},
	}
)

func TestPlanRBAC(t *testing.T) {
	fresh := &milvus.RBAC{Users: []milvus.User{{Name: "root"}}}
	differs := &milvus.RBAC{Users: []milvus.User{{Name: "root"}, {Name: "ben", Roles: []string{"reader"}}},
		Roles: []milvus.Role{{Name: "reader"}}}
	tests := []struct {
		name     string
		current  *milvus.RBAC
		existing string
		want     RBACPlan
	}{
		{"fresh server", fresh, "", RBACPlan{CreateRoles: []string{"reader", "writer"},
			Grants:      []RoleGrant{{"reader", grantQ}, {"writer", grantI}},
			CreateUsers: []string{"ann", "ben"}, Bindings: []RoleBinding{{"ann", "reader"}, {"ben", "reader"}, {"ben", "writer"}}}},
		{"conflicts fail", differs, "fail", RBACPlan{CreateRoles: []string{"writer"}, Grants: []RoleGrant{{"writer", grantI}},
			CreateUsers: []string{"ann"}, Bindings: []RoleBinding{{"ann", "reader"}},
			Conflicts: []string{"role reader exists without 1 of the backup's grants", "user ben exists without the roles writer"},
			LeftAlone: []string{"role reader", "user ben"}}},
		{"conflicts skipped", differs, "skip", RBACPlan{CreateRoles: []string{"writer"}, Grants: []RoleGrant{{"writer", grantI}},
			CreateUsers: []string{"ann"}, Bindings: []RoleBinding{{"ann", "reader"}}, LeftAlone: []string{"role reader", "user ben"}}},
		{"conflicts merged", differs, "merge", RBACPlan{CreateRoles: []string{"writer"}, Grants: []RoleGrant{{"reader", grantQ}, {"writer", grantI}},
			CreateUsers: []string{"ann"}, Bindings: []RoleBinding{{"ann", "reader"}, {"ben", "writer"}}}},
	}
	for _, tt := range tests {
		got, err := PlanRBAC(backed, tt.current, tt.existing)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s:\n got  %+v\n want %+v", tt.name, got, tt.want)
		}
	}
	if _, err := PlanRBAC(backed, fresh, "overwrite"); errkind.Of(err) != errkind.Usage {
		t.Errorf("unknown --rbac-existing: %v, want a usage error", err)
	}
}

// fakeRBAC records the changes a restore makes.
type fakeRBAC struct {
	current *milvus.RBAC
	changes []string
}

func (f *fakeRBAC) ReadRBAC(context.Context) (*milvus.RBAC, error) { return f.current, nil }
func (f *fakeRBAC) CreateRole(_ context.Context, n string) error {
	f.changes = append(f.changes, "role "+n)
	return nil
}
func (f *fakeRBAC) GrantPrivilege(_ context.Context, r string, g milvus.Grant) error {
	f.changes = append(f.changes, "grant "+r+" "+g.String())
	return nil
}
func (f *fakeRBAC) CreateUser(_ context.Context, n, pw string) error {
	f.changes = append(f.changes, "user "+n+" "+pw)
	return nil
}
func (f *fakeRBAC) BindRole(_ context.Context, u, r string) error {
	f.changes = append(f.changes, "bind "+u+" "+r)
	return nil
}

func TestRestoreRBAC(t *testing.T) {
	m := &manifest.Manifest{ID: "b1", RBAC: backed}
	f := &fakeRBAC{current: &milvus.RBAC{Roles: []milvus.Role{{Name: "reader"}}}}
	_, err := RestoreRBAC(context.Background(), f, m, RBACParams{})
	var ce *RBACConflictError
	if !errors.As(err, &ce) || errkind.Of(err) != errkind.Conflict || len(f.changes) != 0 {
		t.Fatalf("conflicting restore: err %v, changes %v; want a conflict and no change", err, f.changes)
	}
	f = &fakeRBAC{current: &milvus.RBAC{Users: []milvus.User{{Name: "root"}}}}
	res, err := RestoreRBAC(context.Background(), f, m, RBACParams{Passwords: map[string]string{"ann": "ann-secret"}})
	if err != nil {
		t.Fatal(err)
	}
	pw := res.GeneratedPasswords["ben"]
	want := []string{"role reader", "role writer", "grant reader Query on Collection default.docs", "grant writer Insert on Collection default.docs",
		"user ann ann-secret", "user ben " + pw, "bind ann reader", "bind ben reader", "bind ben writer"}
	if len(pw) < 20 || len(res.GeneratedPasswords) != 1 || !reflect.DeepEqual(f.changes, want) {
		t.Errorf("changes %v, generated %v; want %v with a random password for ben only", f.changes, res.GeneratedPasswords, want)
	}
	if _, err := RestoreRBAC(context.Background(), f, &manifest.Manifest{ID: "b2"}, RBACParams{}); errkind.Of(err) != errkind.Usage {
		t.Errorf("backup without RBAC: %v, want a usage error", err)
	}
}
