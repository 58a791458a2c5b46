package cli

import (
	"bufio"
	"context"
	"os"
	"strings"

	"github.com/spf13/pflag"

	"github.com/milvault/milvault/audit"
	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/milvus"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/restore"
)

// rbacRestoreFlags are restore's flags for users and roles.
type rbacRestoreFlags struct {
	RBAC          bool
	RBACOnly      bool
	RBACPasswords string
	RBACExisting  string
}

func (o *rbacRestoreFlags) addFlags(f *pflag.FlagSet) {
	f.BoolVar(&o.RBAC, "rbac", false, "also restore the backup's users, roles, grants and bindings (before the collections; needs a backup taken with --rbac)")
	f.BoolVar(&o.RBACOnly, "rbac-only", false, "restore only the backup's users and roles, no collections")
	f.StringVar(&o.RBACPasswords, "rbac-passwords", "", "file of user:password lines for the users --rbac creates (others get a random password, printed once)")
	f.StringVar(&o.RBACExisting, "rbac-existing", restore.ExistingFail, "users and roles that exist but differ from the backup: fail (change nothing), skip (leave them) or merge (add missing grants and bindings)")
}

func (o *rbacRestoreFlags) wanted() bool { return o.RBAC || o.RBACOnly }

// readPasswords reads a file of user:password lines (# comments and
// blank lines ignored).
func readPasswords(path string) (map[string]string, error) {
	out := map[string]string{}
	if path == "" {
		return out, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, usageErrorf("--rbac-passwords: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		user, pw, ok := strings.Cut(line, ":")
		if !ok || user == "" || len(pw) < 6 {
			// The line is not quoted: it may hold a password.
			return nil, usageErrorf("--rbac-passwords %s line %d: want user:password, the password at least 6 characters", path, n)
		}
		out[user] = pw
	}
	return out, sc.Err()
}

// restoreRBAC restores the backup's users and roles and prints what it did
// (unless --json, where the caller prints the result).
func restoreRBAC(ctx context.Context, g *GlobalOptions, o *rbacRestoreFlags, c *milvus.Client, r *repo.Repository, m *manifest.Manifest) (*restore.RBACResult, error) {
	pws, err := readPasswords(o.RBACPasswords)
	if err != nil {
		return nil, err
	}
	res, err := restore.RestoreRBAC(ctx, c, m, restore.RBACParams{Passwords: pws, Existing: o.RBACExisting})
	g.recordAudit(ctx, r, audit.RBACRestore(m.ID, "", g.commonParams(map[string]any{
		"milvus": g.Milvus, "rbac_existing": o.RBACExisting, "rbac_only": o.RBACOnly})), err)
	if err != nil || g.JSON {
		return res, err
	}
	p := res.Plan
	g.printf("users and roles: %d roles created, %d grants, %d users created, %d bindings\n",
		len(p.CreateRoles), len(p.Grants), len(p.CreateUsers), len(p.Bindings))
	for _, s := range p.LeftAlone {
		g.printf("left alone (exists, differs from the backup): %s\n", s)
	}
	for _, u := range restore.SortedNames(res.GeneratedPasswords) {
		g.printf("new user %s: password %s (shown once: store it now)\n", u, res.GeneratedPasswords[u])
	}
	return res, nil
}

// printRBAC lists a backup's users and roles (show).
func printRBAC(g *GlobalOptions, a *manifest.RBAC) {
	g.printf("\nusers and roles (backup --rbac):\n")
	for _, u := range a.Users {
		g.printf("  user %s: roles %s\n", u.Name, orDash(strings.Join(u.Roles, ", ")))
	}
	for _, r := range a.Roles {
		g.printf("  role %s: %d grants\n", r.Name, len(r.Grants))
		for _, gr := range r.Grants {
			g.printf("    %s\n", milvus.Grant(gr))
		}
	}
}
