package backup

import (
	"context"
	"fmt"

	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/milvus"
)

// RBACReader reads a server's users, roles and grants (*milvus.Client).
type RBACReader interface {
	ReadRBAC(ctx context.Context) (*milvus.RBAC, error)
}

var _ RBACReader = (*milvus.Client)(nil)

// CaptureRBAC reads the server's access control into the manifest's form.
func CaptureRBAC(ctx context.Context, r RBACReader) (*manifest.RBAC, error) {
	a, err := r.ReadRBAC(ctx)
	if err != nil {
		return nil, fmt.Errorf("back up users and roles: %w", err)
	}
	out := &manifest.RBAC{Users: []manifest.RBACUser{}, Roles: []manifest.RBACRole{}}
	for _, u := range a.Users {
		out.Users = append(out.Users, manifest.RBACUser{Name: u.Name, Roles: u.Roles})
	}
	for _, r := range a.Roles {
		role := manifest.RBACRole{Name: r.Name}
		for _, g := range r.Grants {
			role.Grants = append(role.Grants, manifest.RBACGrant{Object: g.Object, ObjectName: g.ObjectName, Privilege: g.Privilege, Database: g.Database})
		}
		out.Roles = append(out.Roles, role)
	}
	return out, nil
}
