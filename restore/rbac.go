package restore

import (
	"context"
	"crypto/rand"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/milvault/milvault/errkind"
	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/milvus"
)

// What RBACParams.Existing does with users and roles that already exist.
const (
	// ExistingFail refuses, before changing anything, when an existing user
	// or role differs from the backup (the default).
	ExistingFail = "fail"
	// ExistingSkip leaves existing users and roles as they are and reports
	// how they differ.
	ExistingSkip = "skip"
	// ExistingMerge adds the backup's missing grants and role bindings to
	// existing roles and users; it never removes any and never changes a
	// password.
	ExistingMerge = "merge"
)

// RBACServer is what an RBAC restore asks of the server (*milvus.Client).
type RBACServer interface {
	ReadRBAC(ctx context.Context) (*milvus.RBAC, error)
	CreateRole(ctx context.Context, name string) error
	GrantPrivilege(ctx context.Context, role string, g milvus.Grant) error
	CreateUser(ctx context.Context, name, password string) error
	BindRole(ctx context.Context, user, role string) error
}

var _ RBACServer = (*milvus.Client)(nil)

// RBACParams says how to restore a backup's users and roles.
type RBACParams struct {
	// Passwords are the passwords of new users, by name; a new user
	// without one gets a random password, returned once in the result.
	Passwords map[string]string
	// Existing is ExistingFail ("" too), ExistingSkip or ExistingMerge.
	Existing string
}

// RBACPlan is what an RBAC restore will do, decided before it changes
// anything.
type RBACPlan struct {
	CreateRoles []string      `json:"create_roles,omitempty"`
	Grants      []RoleGrant   `json:"grants,omitempty"`
	CreateUsers []string      `json:"create_users,omitempty"`
	Bindings    []RoleBinding `json:"bindings,omitempty"`
	// Conflicts are existing users and roles that differ from the backup.
	Conflicts []string `json:"conflicts,omitempty"`
	// LeftAlone are existing users and roles the restore does not touch.
	LeftAlone []string `json:"left_alone,omitempty"`
}

// RoleGrant is a grant to a role.
type RoleGrant struct {
	Role  string             `json:"role"`
	Grant manifest.RBACGrant `json:"grant"`
}

// RoleBinding binds a user to a role.
type RoleBinding struct {
	User string `json:"user"`
	Role string `json:"role"`
}

// RBACResult is what an RBAC restore did.
type RBACResult struct {
	Plan RBACPlan `json:"plan"`
	// GeneratedPasswords are the random passwords of new users that had
	// none in RBACParams.Passwords. They are shown once and stored nowhere.
	GeneratedPasswords map[string]string `json:"generated_passwords,omitempty"`
}

// RBACConflictError refuses an RBAC restore whose existing users or roles
// differ from the backup, before anything changed.
type RBACConflictError struct{ Conflicts []string }

func (e *RBACConflictError) Error() string {
	return fmt.Sprintf("restore of users and roles refused, nothing was changed: %s (use --rbac-existing skip to leave them as they are, or merge to add the backup's grants and bindings)",
		strings.Join(e.Conflicts, "; "))
}

// Kind classifies the error as a conflict.
func (e *RBACConflictError) Kind() errkind.Kind { return errkind.Conflict }

// PlanRBAC decides what restoring backup into a server whose access
// control is current does. It is pure: it only compares.
func PlanRBAC(backup *manifest.RBAC, current *milvus.RBAC, existing string) (RBACPlan, error) {
	if existing == "" {
		existing = ExistingFail
	}
	if existing != ExistingFail && existing != ExistingSkip && existing != ExistingMerge {
		return RBACPlan{}, errkind.New(errkind.Usage, "--rbac-existing %q: use fail, skip or merge", existing)
	}
	var plan RBACPlan
	roles := map[string][]milvus.Grant{}
	for _, r := range current.Roles {
		roles[r.Name] = r.Grants
	}
	for _, r := range backup.Roles {
		have, exists := roles[r.Name]
		missing := missingGrants(r.Grants, have)
		switch {
		case !exists:
			plan.CreateRoles = append(plan.CreateRoles, r.Name)
		case len(missing) == 0:
			continue
		case existing == ExistingMerge:
		default:
			plan.Conflicts = append(plan.Conflicts, fmt.Sprintf("role %s exists without %d of the backup's grants", r.Name, len(missing)))
			plan.LeftAlone = append(plan.LeftAlone, "role "+r.Name)
			continue
		}
		for _, g := range missing {
			plan.Grants = append(plan.Grants, RoleGrant{Role: r.Name, Grant: g})
		}
	}
	planUsers(&plan, backup, current, existing)
	if existing == ExistingSkip {
		plan.Conflicts = nil // reported as left alone
	}
	return plan, nil
}

func planUsers(plan *RBACPlan, backup *manifest.RBAC, current *milvus.RBAC, existing string) {
	users := map[string][]string{}
	for _, u := range current.Users {
		users[u.Name] = u.Roles
	}
	for _, u := range backup.Users {
		have, exists := users[u.Name]
		var missing []string
		for _, r := range u.Roles {
			if !slices.Contains(have, r) {
				missing = append(missing, r)
			}
		}
		switch {
		case !exists:
			plan.CreateUsers = append(plan.CreateUsers, u.Name)
		case len(missing) == 0:
			continue
		case existing == ExistingMerge:
		default:
			plan.Conflicts = append(plan.Conflicts, fmt.Sprintf("user %s exists without the roles %s", u.Name, strings.Join(missing, ",")))
			plan.LeftAlone = append(plan.LeftAlone, "user "+u.Name)
			continue
		}
		for _, r := range missing {
			plan.Bindings = append(plan.Bindings, RoleBinding{User: u.Name, Role: r})
		}
	}
}

// missingGrants returns the grants of want that have does not hold.
func missingGrants(want []manifest.RBACGrant, have []milvus.Grant) []manifest.RBACGrant {
	var out []manifest.RBACGrant
	for _, g := range want {
		if !slices.Contains(have, milvus.Grant(g)) {
			out = append(out, g)
		}
	}
	return out
}

// RestoreRBAC recreates the roles, grants, users and bindings of backup m
// on the server: it reads the server's current access control, plans
// (PlanRBAC), refuses with *RBACConflictError before changing anything
// when existing users or roles differ (unless p.Existing says otherwise),
// then creates roles, grants, users and bindings in that order.
func RestoreRBAC(ctx context.Context, s RBACServer, m *manifest.Manifest, p RBACParams) (*RBACResult, error) {
	if m.Sealed {
		return nil, errkind.New(errkind.Key, "backup %s is in an encrypted repository read without its key: restoring users and roles needs the key (--identity-file, --password-file or MILVAULT_PASSWORD)", m.ID)
	}
	if m.RBAC == nil {
		return nil, errkind.New(errkind.Usage, "backup %s holds no users and roles (it was taken without backup --rbac)", m.ID)
	}
	current, err := s.ReadRBAC(ctx)
	if err != nil {
		return nil, err
	}
	plan, err := PlanRBAC(m.RBAC, current, p.Existing)
	if err != nil {
		return nil, err
	}
	if len(plan.Conflicts) > 0 && p.Existing != ExistingMerge {
		return &RBACResult{Plan: plan}, &RBACConflictError{Conflicts: plan.Conflicts}
	}
	res := &RBACResult{Plan: plan}
	return res, applyRBAC(ctx, s, res, p.Passwords)
}

func applyRBAC(ctx context.Context, s RBACServer, res *RBACResult, passwords map[string]string) error {
	plan := res.Plan
	for _, r := range plan.CreateRoles {
		if err := s.CreateRole(ctx, r); err != nil {
			return err
		}
	}
	for _, g := range plan.Grants {
		if err := s.GrantPrivilege(ctx, g.Role, milvus.Grant(g.Grant)); err != nil {
			return err
		}
	}
	for _, u := range plan.CreateUsers {
		pw, ok := passwords[u]
		if !ok {
			pw = randomPassword()
			if res.GeneratedPasswords == nil {
				res.GeneratedPasswords = map[string]string{}
			}
			res.GeneratedPasswords[u] = pw
		}
		if err := s.CreateUser(ctx, u, pw); err != nil {
			return err
		}
	}
	for _, b := range plan.Bindings {
		if err := s.BindRole(ctx, b.User, b.Role); err != nil {
			return err
		}
	}
	return nil
}

// randomPassword returns 26 random base32 characters (130 bits; Milvus
// accepts 6 to 256 characters).
func randomPassword() string { return rand.Text() }

// SortedNames returns the keys of a password map, sorted, for printing.
func SortedNames(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
