package e2e

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"

	"github.com/milvault/milvault/internal/fixture"
	"github.com/milvault/milvault/milvus"
)

// minimalPrivileges are the privileges docs/security.md lists per command,
// beyond those of the built-in public role (DescribeCollection and
// ShowCollections on Global, IndexDetail on Collection), as
// "Object:Privilege".
var minimalPrivileges = map[string][]string{
	"backup": {"Global:ListDatabases", "Collection:GetStatistics", "Collection:ShowPartitions", "Collection:Load",
		"Collection:Flush", "Collection:GetFlushState", "Collection:Query"},
	"restore": {"Global:CreateCollection", "Global:DropCollection", "Collection:CreatePartition", "Collection:Insert",
		"Collection:Flush", "Collection:GetFlushState", "Collection:GetStatistics", "Collection:CreateIndex", "Collection:Load"},
	"verify": {"Global:CreateCollection", "Global:DropCollection", "Collection:CreatePartition", "Collection:Insert",
		"Collection:Flush", "Collection:GetFlushState", "Collection:GetStatistics", "Collection:CreateIndex", "Collection:Load",
		"Collection:ShowPartitions", "Collection:Query"},
	"drill": {"Global:CreateCollection", "Global:DropCollection", "Collection:CreatePartition", "Collection:Insert",
		"Collection:Flush", "Collection:GetFlushState", "Collection:GetStatistics", "Collection:CreateIndex", "Collection:Load",
		"Collection:Search"},
}

// withheld is the privilege the "less" user of each command lacks.
var withheld = map[string]string{"backup": "Collection:Query", "restore": "Collection:Insert", "verify": "Collection:Query", "drill": "Collection:Search"}

var lacksPrivilege = regexp.MustCompile(`lacks the privilege (\w+)`)

// TestLeastPrivilege runs backup, restore, deep verify and drill as users
// holding exactly the documented privileges (they succeed), and as users
// missing one (they fail, naming it), on the real Milvus 2.3.5 with
// authorization on (MILVAULT_TEST_RBAC_MILVUS).
func TestLeastPrivilege(t *testing.T) {
	addr, _ := rbacEnv(t)
	ctx := testContext(t)
	c := connectAs(t, addr, rootToken)
	d, err := fixture.Create(ctx, c, fixture.Options{Name: uniqueName("lp"), Rows: 50, Dim: 4, Partitions: []string{"p1"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.DropCollection(ctx, "default", d.Collection) })
	repo := newRepo(t)
	t.Setenv("MILVAULT_TOKEN", rootToken)
	if r := runCLI(t, "--milvus", addr, "--repo", repo, "-q", "backup", "--name", "lp", "-c", d.Collection); r.code != 0 {
		t.Fatal(r)
	}
	restores := 0
	args := map[string]func() []string{
		"backup": func() []string { return []string{"backup", "-c", d.Collection} },
		"restore": func() []string { // a new target each time: a refused restore may leave one behind
			restores++
			target := fmt.Sprintf("%s_lp%d", d.Collection, restores)
			t.Cleanup(func() { c.DropCollection(ctx, "default", target) })
			return []string{"restore", "lp", "--target", target}
		},
		"verify": func() []string { return []string{"verify", "lp", "--mode", "deep"} },
		"drill":  func() []string { return []string{"drill", "lp"} },
	}
	ops := []string{"backup", "restore", "verify", "drill"}
	full, less, lessUser := map[string]string{}, map[string][]string{}, map[string]string{}
	for _, op := range ops {
		full[op] = leastUser(t, c, op, minimalPrivileges[op])
		for _, p := range minimalPrivileges[op] {
			if p != withheld[op] {
				less[op] = append(less[op], p)
			}
		}
		lessUser[op] = leastUser(t, c, op+"_less", less[op])
	}
	time.Sleep(5 * time.Second) // let the proxy learn the grants (see runAs)
	for _, op := range ops {
		t.Run(op, func(t *testing.T) {
			r := runAs(t, addr, repo, full[op], minimalPrivileges[op], args[op])
			if r.code != 0 {
				t.Errorf("%s with exactly the documented privileges: %s", op, r)
			}
			r = runAs(t, addr, repo, lessUser[op], less[op], args[op])
			want := strings.SplitN(withheld[op], ":", 2)[1]
			if m := lacksPrivilege.FindStringSubmatch(fmt.Sprint(r.err)); r.code == 0 || m == nil || m[1] != want {
				t.Errorf("%s without %s: want an error naming it, got %s", op, want, r)
			}
		})
	}
}

// leastUser creates a user (password = its name + "-pw") with one role
// holding privs on every object of the default database, and removes both
// when the test ends (Milvus 2.3 allows only 10 roles).
func leastUser(t *testing.T, c *milvus.Client, name string, privs []string) string {
	t.Helper()
	ctx := testContext(t)
	user, role := "lp_"+name, "lp_role_"+name
	for _, err := range []error{c.CreateRole(ctx, role), c.CreateUser(ctx, user, user+"-pw"), c.BindRole(ctx, user, role)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	var grants []milvus.Grant
	for _, p := range privs {
		obj, priv, _ := strings.Cut(p, ":")
		g := milvus.Grant{Object: obj, ObjectName: "*", Privilege: priv, Database: "default"}
		if err := c.GrantPrivilege(ctx, role, g); err != nil {
			t.Fatal(err)
		}
		grants = append(grants, g)
	}
	t.Cleanup(func() { removeUser(t, c, user, role, grants) })
	return user
}

// removeUser drops a user and its role with the role's grants.
func removeUser(t *testing.T, c *milvus.Client, user, role string, grants []milvus.Grant) {
	ctx := context.Background()
	svc := c.Service()
	var errs []error
	for _, g := range grants {
		_, err := svc.OperatePrivilege(ctx, revoke(role, g))
		errs = append(errs, err)
	}
	_, err := svc.OperateUserRole(ctx, &milvuspb.OperateUserRoleRequest{Username: user, RoleName: role, Type: milvuspb.OperateUserRoleType_RemoveUserFromRole})
	errs = append(errs, err)
	_, err = svc.DropRole(ctx, &milvuspb.DropRoleRequest{RoleName: role})
	errs = append(errs, err)
	_, err = svc.DeleteCredential(ctx, &milvuspb.DeleteCredentialRequest{Username: user})
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		t.Logf("remove user %s and role %s: %v", user, role, err)
	}
}

// runAs runs the CLI as user. The proxies of Milvus 2.3 learn new grants
// with a delay, so a refusal naming a privilege the user was granted is
// retried for up to a minute.
func runAs(t *testing.T, addr, repo, user string, granted []string, args func() []string) result {
	t.Helper()
	t.Setenv("MILVAULT_TOKEN", user+":"+user+"-pw")
	deadline := time.Now().Add(time.Minute)
	for {
		r := runCLI(t, append([]string{"--milvus", addr, "--repo", repo, "-q"}, args()...)...)
		m := lacksPrivilege.FindStringSubmatch(fmt.Sprint(r.err))
		if m == nil || time.Now().After(deadline) || !slices.ContainsFunc(granted, func(p string) bool { return strings.HasSuffix(p, ":"+m[1]) }) {
			return r
		}
		time.Sleep(2 * time.Second)
	}
}
