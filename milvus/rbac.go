package milvus

import (
	"context"
	"encoding/base64"
	"fmt"
	"sort"

	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
)

// RBAC is a server's access control: its users with their roles, and its
// roles with their grants. Passwords cannot be read back from Milvus, so
// users are names only.
type RBAC struct {
	Users []User
	Roles []Role
}

// User is a user and the roles bound to it.
type User struct {
	Name  string
	Roles []string
}

// Role is a role and the privileges granted to it.
type Role struct {
	Name   string
	Grants []Grant
}

// Grant is one privilege on one object: Object is the object type
// (Global, Collection, User), ObjectName its name ("*" for all), Privilege
// the privilege name as Milvus lists it (Insert, Query, ...), Database the
// database of the object ("" where the server has none).
type Grant struct {
	Object     string
	ObjectName string
	Privilege  string
	Database   string
}

// String renders the grant as "Privilege on Object Database.ObjectName".
func (g Grant) String() string {
	name := g.ObjectName
	if g.Database != "" {
		name = g.Database + "." + name
	}
	return fmt.Sprintf("%s on %s %s", g.Privilege, g.Object, name)
}

// ReadRBAC reads every user, role, grant and user-role binding with the
// calls Milvus 2.3 and later have: ListCredUsers, SelectUser, SelectRole
// and SelectGrant. The result is sorted, so two reads of the same server
// compare equal.
func (c *Client) ReadRBAC(ctx context.Context) (*RBAC, error) {
	users, err := c.users(ctx)
	if err != nil {
		return nil, err
	}
	roles, err := c.RoleNames(ctx)
	if err != nil {
		return nil, err
	}
	out := &RBAC{Users: users}
	for _, name := range roles {
		grants, err := c.RoleGrants(ctx, name)
		if err != nil {
			return nil, err
		}
		out.Roles = append(out.Roles, Role{Name: name, Grants: grants})
	}
	return out, nil
}

// users lists the users with their roles: every name ListCredUsers knows,
// with the bindings SelectUser reports.
func (c *Client) users(ctx context.Context) ([]User, error) {
	names, err := c.svc.ListCredUsers(ctx, &milvuspb.ListCredUsersRequest{})
	if err := check(names, err); err != nil {
		return nil, rbacError("list users (ListCredUsers)", err)
	}
	sel, err := c.svc.SelectUser(ctx, &milvuspb.SelectUserRequest{IncludeRoleInfo: true})
	if err := check(sel, err); err != nil {
		return nil, rbacError("read user roles (SelectUser)", err)
	}
	roles := map[string][]string{}
	for _, r := range sel.GetResults() {
		for _, role := range r.GetRoles() {
			roles[r.GetUser().GetName()] = append(roles[r.GetUser().GetName()], role.GetName())
		}
	}
	out := make([]User, 0, len(names.GetUsernames()))
	for _, n := range names.GetUsernames() {
		rs := roles[n]
		sort.Strings(rs)
		out = append(out, User{Name: n, Roles: rs})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// RoleNames lists the roles, sorted.
func (c *Client) RoleNames(ctx context.Context) ([]string, error) {
	resp, err := c.svc.SelectRole(ctx, &milvuspb.SelectRoleRequest{})
	if err := check(resp, err); err != nil {
		return nil, rbacError("list roles (SelectRole)", err)
	}
	var out []string
	for _, r := range resp.GetResults() {
		out = append(out, r.GetRole().GetName())
	}
	sort.Strings(out)
	return out, nil
}

// RoleGrants lists the privileges granted to role in every database and
// those for all databases ("*"), sorted. SelectGrant answers for one
// database at a time, so it is asked once per database.
func (c *Client) RoleGrants(ctx context.Context, role string) ([]Grant, error) {
	dbs, err := c.ListDatabases(ctx)
	if err != nil || len(dbs) == 0 {
		dbs = []string{"default"} // servers without databases
	}
	seen := map[Grant]bool{}
	var out []Grant
	for _, db := range append(dbs, "*") {
		resp, err := c.svc.SelectGrant(ctx, &milvuspb.SelectGrantRequest{Entity: &milvuspb.GrantEntity{
			Role: &milvuspb.RoleEntity{Name: role}, DbName: db}})
		if err := check(resp, err); err != nil {
			return nil, rbacError("list the grants of role "+role+" (SelectGrant)", err)
		}
		for _, e := range resp.GetEntities() {
			g := Grant{Object: e.GetObject().GetName(), ObjectName: e.GetObjectName(),
				Privilege: e.GetGrantor().GetPrivilege().GetName(), Database: e.GetDbName()}
			if !seen[g] {
				seen[g] = true
				out = append(out, g)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out, nil
}

// CreateRole creates a role.
func (c *Client) CreateRole(ctx context.Context, name string) error {
	st, err := c.svc.CreateRole(ctx, &milvuspb.CreateRoleRequest{Entity: &milvuspb.RoleEntity{Name: name}})
	if err := check(nil, err); err != nil {
		return rbacError("create role "+name, err)
	}
	return rbacError("create role "+name, checkStatus(st))
}

// GrantPrivilege grants g to role.
func (c *Client) GrantPrivilege(ctx context.Context, role string, g Grant) error {
	st, err := c.svc.OperatePrivilege(ctx, &milvuspb.OperatePrivilegeRequest{Type: milvuspb.OperatePrivilegeType_Grant,
		Entity: &milvuspb.GrantEntity{Role: &milvuspb.RoleEntity{Name: role}, Object: &milvuspb.ObjectEntity{Name: g.Object},
			ObjectName: g.ObjectName, DbName: g.Database,
			Grantor: &milvuspb.GrantorEntity{Privilege: &milvuspb.PrivilegeEntity{Name: g.Privilege}}}})
	what := fmt.Sprintf("grant %s to role %s", g, role)
	if err != nil {
		return rbacError(what, err)
	}
	return rbacError(what, checkStatus(st))
}

// CreateUser creates a user with a password.
func (c *Client) CreateUser(ctx context.Context, name, password string) error {
	st, err := c.svc.CreateCredential(ctx, &milvuspb.CreateCredentialRequest{Username: name,
		Password: base64.StdEncoding.EncodeToString([]byte(password))})
	if err != nil {
		return rbacError("create user "+name, err)
	}
	return rbacError("create user "+name, checkStatus(st))
}

// BindRole adds user to role.
func (c *Client) BindRole(ctx context.Context, user, role string) error {
	st, err := c.svc.OperateUserRole(ctx, &milvuspb.OperateUserRoleRequest{Username: user, RoleName: role,
		Type: milvuspb.OperateUserRoleType_AddUserToRole})
	what := fmt.Sprintf("bind user %s to role %s", user, role)
	if err != nil {
		return rbacError(what, err)
	}
	return rbacError(what, checkStatus(st))
}

// rbacError puts what was being done in front of err (nil stays nil).
func rbacError(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}
