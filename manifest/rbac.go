package manifest

// RBAC is the access control a backup recorded (backup --rbac): users with
// their roles, and roles with their grants. Milvus cannot return
// passwords, so users are names only; restore --rbac gives new users a
// password from a file or a random one.
type RBAC struct {
	Users []RBACUser `json:"users"`
	Roles []RBACRole `json:"roles"`
}

// RBACUser is a user and the roles bound to it.
type RBACUser struct {
	Name  string   `json:"name"`
	Roles []string `json:"roles,omitempty"`
}

// RBACRole is a role and the privileges granted to it.
type RBACRole struct {
	Name   string      `json:"name"`
	Grants []RBACGrant `json:"grants,omitempty"`
}

// RBACGrant is one privilege on one object, as SelectGrant reports it.
type RBACGrant struct {
	// Object is the object type: Global, Collection or User.
	Object string `json:"object"`
	// ObjectName is the object's name, "*" for every object of the type.
	ObjectName string `json:"object_name"`
	// Privilege is the privilege's name, e.g. Query, Insert, CreateIndex.
	Privilege string `json:"privilege"`
	// Database is the object's database, "*" for every database.
	Database string `json:"database,omitempty"`
}
