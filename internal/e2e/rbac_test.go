package e2e

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"

	"github.com/milvault/milvault/internal/fixture"
	"github.com/milvault/milvault/milvus"
)

// The RBAC round trip runs in two phases around a restart of the real
// Milvus 2.3.5 with authorization on (scripts/test.sh): TestRBACBackup
// sets up two roles with grants on two collections and three users, and
// backs them up with --rbac; the restart wipes the server; TestRBACRestore
// restores them into the fresh server and compares. The phases share the
// folder MILVAULT_TEST_RBAC_DIR; the server is MILVAULT_TEST_RBAC_MILVUS.

const rootToken = "root:Milvus"

// The users of the round trip and the passwords the operator provides for
// two of them; the third gets a random one.
var rbacPasswords = map[string]string{"rbac_alice": "alice-pw-1", "rbac_bob": "bob-pw-22"}

func rbacEnv(t *testing.T) (addr, dir string) {
	t.Helper()
	addr, dir = os.Getenv("MILVAULT_TEST_RBAC_MILVUS"), os.Getenv("MILVAULT_TEST_RBAC_DIR")
	if addr == "" || dir == "" {
		t.Skip("MILVAULT_TEST_RBAC_MILVUS and MILVAULT_TEST_RBAC_DIR are not set: no Milvus with authorization on for the RBAC round trip (scripts/test.sh starts one)")
	}
	return addr, dir
}

func connectAs(t *testing.T, addr, token string) *milvus.Client {
	t.Helper()
	c, err := milvus.Connect(testContext(t), milvus.Config{Address: addr, Token: token})
	if err != nil {
		t.Fatalf("connect as %s: %v", strings.SplitN(token, ":", 2)[0], err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestRBACBackup is phase one: set up, back up with --rbac, and record the
// server's SelectGrant answers for phase two.
func TestRBACBackup(t *testing.T) {
	addr, dir := rbacEnv(t)
	ctx := testContext(t)
	c := connectAs(t, addr, rootToken)
	colls := make([]string, 2)
	for i := range colls {
		d, err := fixture.Create(ctx, c, fixture.Options{Name: uniqueName("rbac"), Rows: 50, Dim: 4, Partitions: []string{}})
		if err != nil {
			t.Fatal(err)
		}
		colls[i] = d.Collection
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(c.CreateRole(ctx, "rbac_reader"))
	must(c.CreateRole(ctx, "rbac_writer"))
	for _, p := range []string{"Query", "Search", "Load"} {
		must(c.GrantPrivilege(ctx, "rbac_reader", milvus.Grant{Object: "Collection", ObjectName: colls[0], Privilege: p, Database: "default"}))
	}
	for _, p := range []string{"Insert", "Delete"} {
		must(c.GrantPrivilege(ctx, "rbac_writer", milvus.Grant{Object: "Collection", ObjectName: colls[1], Privilege: p, Database: "default"}))
	}
	must(c.GrantPrivilege(ctx, "rbac_writer", milvus.Grant{Object: "Global", ObjectName: "*", Privilege: "ShowCollections", Database: "default"}))
	for user, roles := range map[string][]string{"rbac_alice": {"rbac_reader"}, "rbac_bob": {"rbac_writer"}, "rbac_carol": {"rbac_reader", "rbac_writer"}} {
		must(c.CreateUser(ctx, user, "original-pw-"+user))
		for _, r := range roles {
			must(c.BindRole(ctx, user, r))
		}
	}
	before, err := c.ReadRBAC(ctx)
	must(err)
	repo := filepath.Join(dir, "repo")
	if r := runCLI(t, "--repo", repo, "init"); r.code != 0 {
		t.Fatal(r)
	}
	t.Setenv("MILVAULT_TOKEN", rootToken)
	r := runCLI(t, "--milvus", addr, "--repo", repo, "-q", "backup", "--rbac", "--name", "rbac", "-c", colls[0], "-c", colls[1])
	if r.code != 0 {
		t.Fatalf("backup --rbac: %s", r)
	}
	r = runCLI(t, "--repo", repo, "show", "rbac")
	for _, want := range []string{"user rbac_carol: roles rbac_reader, rbac_writer", "role rbac_reader: 3 grants", "Insert on Collection default." + colls[1]} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("show does not list %q:\n%s", want, r.stdout)
		}
	}
	writeJSONFile(t, filepath.Join(dir, "rbac-before.json"), before)
}

// TestRBACRestore is phase two, on the restarted (empty) server: restore
// --rbac, then the server's SelectGrant answers equal phase one's and the
// users log in with the provided (or the printed random) passwords.
func TestRBACRestore(t *testing.T) {
	addr, dir := rbacEnv(t)
	var before milvus.RBAC
	data, err := os.ReadFile(filepath.Join(dir, "rbac-before.json"))
	if err != nil {
		t.Skipf("phase one (TestRBACBackup) left no state in %s: %v", dir, err)
	}
	if err := json.Unmarshal(data, &before); err != nil {
		t.Fatal(err)
	}
	ctx := testContext(t)
	c := connectAs(t, addr, rootToken)
	if fresh, err := c.ReadRBAC(ctx); err != nil || reflect.DeepEqual(*fresh, before) {
		t.Fatalf("the server is not fresh: %v, %v", fresh, err)
	}
	pwFile := filepath.Join(t.TempDir(), "passwords")
	os.WriteFile(pwFile, []byte("# operator-provided\nrbac_alice:"+rbacPasswords["rbac_alice"]+"\nrbac_bob:"+rbacPasswords["rbac_bob"]+"\n"), 0o600)
	t.Setenv("MILVAULT_TOKEN", rootToken)
	repo := filepath.Join(dir, "repo")
	r := runCLI(t, "--milvus", addr, "--repo", repo, "-q", "restore", "rbac", "--rbac", "--rbac-passwords", pwFile)
	if r.code != 0 {
		t.Fatalf("restore --rbac: %s", r)
	}
	for _, p := range []string{"Query", "Insert"} { // the restored collections
		name := grantOf(t, before, map[string]string{"Query": "rbac_reader", "Insert": "rbac_writer"}[p], p).ObjectName
		t.Cleanup(func() { c.DropCollection(context.Background(), "default", name) })
	}
	after, err := c.ReadRBAC(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*after, before) {
		t.Errorf("users, roles and grants after the restore differ:\n got  %+v\n want %+v", *after, before)
	}
	carol := regexp.MustCompile(`new user rbac_carol: password (\S+)`).FindStringSubmatch(r.stdout)
	if carol == nil {
		t.Fatalf("no random password printed for rbac_carol:\n%s", r.stdout)
	}
	pws := map[string]string{"rbac_carol": carol[1]}
	for u, p := range rbacPasswords {
		pws[u] = p
		if strings.Contains(r.stdout+r.stderr, p) {
			t.Errorf("the output repeats %s's provided password", u)
		}
	}
	for u, p := range pws {
		uc := connectAs(t, addr, u+":"+p)
		if _, err := uc.ListCollections(ctx, "default"); err != nil {
			t.Errorf("%s lists collections: %v", u, err)
		}
	}
	// A second restore finds everything in place and changes nothing.
	r = runCLI(t, "--milvus", addr, "--repo", repo, "-q", "restore", "rbac", "--rbac-only")
	if r.code != 0 || !strings.Contains(r.stdout, "0 roles created, 0 grants, 0 users created, 0 bindings") {
		t.Errorf("second restore --rbac-only: %s", r)
	}
	testRBACConflict(t, ctx, c, addr, repo, grantOf(t, before, "rbac_writer", "Delete"))
}

// testRBACConflict changes a restored role and checks that a restore
// refuses before changing anything, skip leaves it, and merge repairs it.
func testRBACConflict(t *testing.T, ctx context.Context, c *milvus.Client, addr, repo string, g milvus.Grant) {
	st, err := c.Service().OperatePrivilege(ctx, revoke("rbac_writer", g))
	if err != nil || st.GetCode() != 0 {
		t.Fatalf("revoke: %v %v", st, err)
	}
	r := runCLI(t, "--milvus", addr, "--repo", repo, "-q", "restore", "rbac", "--rbac-only")
	expectFailure(t, r, 6, "role rbac_writer exists without 1 of the backup's grants", "nothing was changed")
	r = runCLI(t, "--milvus", addr, "--repo", repo, "-q", "restore", "rbac", "--rbac-only", "--rbac-existing", "skip")
	if r.code != 0 || !strings.Contains(r.stdout, "left alone (exists, differs from the backup): role rbac_writer") {
		t.Errorf("restore with --rbac-existing skip: %s", r)
	}
	r = runCLI(t, "--milvus", addr, "--repo", repo, "-q", "restore", "rbac", "--rbac-only", "--rbac-existing", "merge")
	if r.code != 0 || !strings.Contains(r.stdout, "1 grants") {
		t.Errorf("restore with --rbac-existing merge: %s", r)
	}
}

// revoke is the request that revokes g from role.
func revoke(role string, g milvus.Grant) *milvuspb.OperatePrivilegeRequest {
	return &milvuspb.OperatePrivilegeRequest{Type: milvuspb.OperatePrivilegeType_Revoke, Entity: &milvuspb.GrantEntity{
		Role: &milvuspb.RoleEntity{Name: role}, Object: &milvuspb.ObjectEntity{Name: g.Object}, ObjectName: g.ObjectName,
		DbName: g.Database, Grantor: &milvuspb.GrantorEntity{Privilege: &milvuspb.PrivilegeEntity{Name: g.Privilege}}}}
}

// grantOf finds role's grant of privilege in a.
func grantOf(t *testing.T, a milvus.RBAC, role, privilege string) milvus.Grant {
	t.Helper()
	for _, r := range a.Roles {
		for _, g := range r.Grants {
			if r.Name == role && g.Privilege == privilege {
				return g
			}
		}
	}
	t.Fatalf("role %s has no %s grant in %+v", role, privilege, a)
	return milvus.Grant{}
}

func writeJSONFile(t *testing.T, path string, v any) {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}
