package guard

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"google.golang.org/grpc/metadata"

	"github.com/milvault/milvault/audit"
	"github.com/milvault/milvault/backup"
	"github.com/milvault/milvault/internal/testenv"
	"github.com/milvault/milvault/milvus"
	"github.com/milvault/milvault/repo"
)

// realGuard is a guard in front of the real milvus23 test server.
type realGuard struct {
	addr   string         // the guard's gRPC address
	direct *milvus.Client // Milvus itself
	repo   *repo.Repository
}

// startRealGuard starts a guard with cfg (Upstream and Repo filled in) in
// front of milvus23, or skips. At the end of the test it purges whatever
// the test left in the trash, directly on Milvus.
func startRealGuard(t *testing.T, cfg Config, setup ...func(*Guard)) realGuard {
	t.Helper()
	var addr string
	for _, tg := range testenv.Targets(t) {
		if tg.Name == "milvus23" {
			addr = tg.Address
		}
	}
	if addr == "" {
		t.Skip("MILVAULT_TEST_TARGETS has no milvus23 target (RenameCollection needs Milvus 2.3)")
	}
	return startGuardAt(t, addr, "", cfg, setup...)
}

// startGuardAt is startRealGuard for the server at addr, which the test
// itself reaches with token; setup runs on the guard before it serves.
func startGuardAt(t *testing.T, addr, token string, cfg Config, setup ...func(*Guard)) realGuard {
	t.Helper()
	ctx := context.Background()
	direct, err := milvus.Connect(ctx, milvus.Config{Address: addr, Token: token})
	if err != nil {
		t.Fatal(err)
	}
	rg := realGuard{direct: direct, repo: testRepo(t)}
	t.Cleanup(func() {
		(&Trash{Repo: rg.repo, Milvus: direct}).Purge(context.Background(), time.Time{})
		direct.Close()
	})
	up, err := Dial(addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { up.Close() })
	cfg.Upstream, cfg.UpstreamAddress, cfg.Repo = up, addr, rg.repo
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range setup {
		f(g)
	}
	rg.addr = serve(t, g.Server())
	return rg
}

// collectionState is what a restore must bring back.
type collectionState struct {
	rows    int64
	indexes []string
	aliases []string
	load    string
}

func stateOf(t *testing.T, c *milvus.Client, name string) collectionState {
	t.Helper()
	ctx := context.Background()
	var s collectionState
	var err error
	if s.rows, err = c.Count(ctx, "default", name); err != nil {
		t.Fatal(err)
	}
	idx, err := c.Indexes(ctx, "default", name)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range idx {
		s.indexes = append(s.indexes, i.GetIndexName()+":"+i.GetFieldName())
	}
	if s.aliases, err = c.Aliases(ctx, "default", name); err != nil {
		t.Fatal(err)
	}
	if s.load, err = c.LoadState(ctx, "default", name); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestTrashRestoreMilvus drops a collection through the guard (Milvus
// 2.3.5), checks that it is gone for the application and in the trash,
// restores it and compares rows, indexes, aliases and load state; the
// audit trail must show the drop and the restore.
func TestTrashRestoreMilvus(t *testing.T) {
	rg := startRealGuard(t, Config{Logger: quiet()})
	ctx := context.Background()
	app, err := milvus.Connect(ctx, milvus.Config{Address: rg.addr, Token: "root:Milvus"})
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	name := testenv.Collection(t, app, "guard", 3000, 8)
	t.Cleanup(func() { rg.direct.DropCollection(context.Background(), "default", name) })
	alias := name + "_alias"
	if err := app.CreateAlias(ctx, "default", name, alias); err != nil {
		t.Fatal(err)
	}
	if err := app.Load(ctx, "default", name, nil); err != nil {
		t.Fatal(err)
	}
	if keys, err := app.Search(ctx, milvus.SearchRequest{Database: "default", Collection: name, Field: "v", Metric: "L2", Vector: make([]float32, 8), TopK: 3}); err != nil || len(keys) != 3 {
		t.Fatalf("search through the guard: %v, %v", keys, err)
	}
	before := stateOf(t, app, name)
	if before.rows != 3000 || len(before.aliases) != 1 || before.load != milvus.LoadStateLoaded {
		t.Fatalf("state before the drop: %+v", before)
	}
	if err := app.DropCollection(ctx, "default", name); err != nil {
		t.Fatalf("drop through the guard: %v", err)
	}
	if has, err := rg.direct.HasCollection(ctx, "default", name); err != nil || has {
		t.Fatalf("after the drop Milvus still has %s (%v)", name, err)
	}
	if target, _ := rg.direct.AliasTarget(ctx, "default", alias); target != "" {
		t.Fatalf("alias %s still points at %s after the drop", alias, target)
	}
	trash := &Trash{Repo: rg.repo, Milvus: rg.direct}
	it, err := trash.Find(ctx, "default", name)
	if err != nil {
		t.Fatal(err)
	}
	if it.Principal != "root" || !slices.Equal(it.Aliases, before.aliases) {
		t.Errorf("trash item: got principal %q aliases %v, want root %v", it.Principal, it.Aliases, before.aliases)
	}
	if err := trash.Restore(ctx, it, ""); err != nil {
		t.Fatal(err)
	}
	after := stateOf(t, rg.direct, name)
	if after.rows != before.rows || !slices.Equal(after.indexes, before.indexes) || !slices.Equal(after.aliases, before.aliases) || after.load != before.load {
		t.Errorf("restored state: got %+v, want %+v", after, before)
	}
	if items, _ := trash.List(ctx); len(items) != 0 {
		t.Errorf("trash after restore: got %d items, want 0", len(items))
	}
	checkAudit(t, rg.repo, name, OpDrop, OpRestore)
}

// checkAudit asserts that the trail holds a successful entry of each op
// for collection name, in that order.
func checkAudit(t *testing.T, r *repo.Repository, name string, ops ...string) {
	t.Helper()
	entries, err := audit.List(context.Background(), r, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		if slices.Contains(e.Collections, "default."+name) && e.Result == audit.ResultOK {
			got = append(got, e.Operation)
		}
	}
	if !slices.Equal(got, ops) {
		t.Errorf("audit operations for %s: got %v, want %v", name, got, ops)
	}
}

// TestRefuseMilvus checks the refuse policy for collections and the
// default one for partitions: Milvus keeps both and the caller learns why.
func TestRefuseMilvus(t *testing.T) {
	rg := startRealGuard(t, Config{Collections: PolicyRefuse, Logger: quiet()})
	ctx := context.Background()
	app, err := milvus.Connect(ctx, milvus.Config{Address: rg.addr})
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	name := testenv.Collection(t, rg.direct, "guardref", 10, 4)
	err = app.DropCollection(ctx, "default", name)
	if err == nil || !strings.Contains(err.Error(), "refuses DropCollection") {
		t.Fatalf("drop under refuse: got %v, want a refusal", err)
	}
	if err := app.CreatePartition(ctx, "default", name, "p1"); err != nil {
		t.Fatal(err)
	}
	st, err := app.Service().DropPartition(ctx, &milvuspb.DropPartitionRequest{CollectionName: name, PartitionName: "p1"})
	if err != nil || st.GetErrorCode() != commonpb.ErrorCode_PermissionDenied || !strings.Contains(st.GetReason(), "refuses DropPartition") {
		t.Errorf("drop partition: got %v, %v; want PermissionDenied", st, err)
	}
	parts, err := rg.direct.Partitions(ctx, "default", name)
	if err != nil || !slices.Contains(parts, "p1") {
		t.Fatalf("partition p1 after a refused drop: %v (%v)", parts, err)
	}
	if has, _ := rg.direct.HasCollection(ctx, "default", name); !has {
		t.Fatalf("collection %s gone after a refused drop", name)
	}
	checkAudit(t, rg.repo, name, OpRefuse)
	checkAudit(t, rg.repo, name+"/p1", OpRefuse)
}

// python returns the project venv's Python with pymilvus, or skips.
func python(t *testing.T) string {
	t.Helper()
	py, _ := filepath.Abs("../.venv/bin/python")
	if err := exec.Command(py, "-c", "import pymilvus").Run(); err != nil {
		t.Skipf("no Python venv with pymilvus at %s (%v): run scripts/milvus-env.sh install", py, err)
	}
	return py
}

// runApp runs testdata/pymilvus_app.py against the guard.
func runApp(t *testing.T, py, addr, name, phase string) {
	t.Helper()
	runAppAt(t, py, "http://"+addr, name, phase)
}

// runAppAt runs testdata/pymilvus_app.py against uri with extra args.
func runAppAt(t *testing.T, py, uri, name, phase string, args ...string) {
	t.Helper()
	out, err := exec.Command(py, append([]string{"testdata/pymilvus_app.py", uri, name, phase}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("pymilvus %s through the guard: %v\n%s", phase, err, out)
	}
}

// TestPymilvusDropRestore is the acceptance test: an application
// using pymilvus through the guard creates, fills, indexes, aliases,
// searches, queries and drops a collection; milvault trash restore brings
// it back, and the same application finds every row, its index and its
// alias through the guard; the audit trail shows the drop and the restore.
func TestPymilvusDropRestore(t *testing.T) {
	py := python(t)
	rg := startRealGuard(t, Config{Logger: quiet()})
	name := fmt.Sprintf("guardpy_%d", time.Now().UnixNano())
	runApp(t, py, rg.addr, name, "create")
	ctx := context.Background()
	trash := &Trash{Repo: rg.repo, Milvus: rg.direct}
	it, err := trash.Find(ctx, "default", name)
	if err != nil {
		t.Fatal(err)
	}
	if it.Principal != "root" {
		t.Errorf("principal of the drop: got %q, want root (the authorization header did not reach the guard)", it.Principal)
	}
	if err := trash.Restore(ctx, it, ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rg.direct.DropCollection(context.Background(), "default", name) })
	runApp(t, py, rg.addr, name, "check")
	checkAudit(t, rg.repo, name, OpDrop, OpRestore)
}

// TestBackupPolicyMilvus checks the backup policy: the drop is forwarded
// only after a backup of the collection was committed, and the audit entry
// names that backup.
func TestBackupPolicyMilvus(t *testing.T) {
	var rg realGuard
	rg = startRealGuard(t, Config{Collections: PolicyBackup, Logger: quiet(), Backup: func(ctx context.Context, db, coll string) (string, error) {
		res, err := backup.Run(ctx, backup.Deps{Milvus: rg.direct, Repo: rg.repo}, backup.Params{Database: db, Collections: []string{coll}})
		if err != nil {
			return "", err
		}
		return res.Manifest.ID, nil
	}})
	ctx := context.Background()
	app, err := milvus.Connect(ctx, milvus.Config{Address: rg.addr})
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	name := testenv.Collection(t, rg.direct, "guardbk", 1000, 4)
	if err := app.DropCollection(ctx, "default", name); err != nil {
		t.Fatal(err)
	}
	if has, _ := rg.direct.HasCollection(ctx, "default", name); has {
		t.Fatalf("%s still exists after a drop under the backup policy", name)
	}
	m, err := rg.repo.Latest(ctx, name)
	if err != nil {
		t.Fatalf("no backup of %s after the drop: %v", name, err)
	}
	if rows := m.Collections[0].Rows; rows != 1000 {
		t.Errorf("backup before the drop holds %d rows, want 1000", rows)
	}
	checkAudit(t, rg.repo, name, OpDrop)
}

// TestDeleteLimitMilvus checks that a delete above the share is refused
// (nothing deleted), a small one passes, and a confirmed large one passes.
func TestDeleteLimitMilvus(t *testing.T) {
	rg := startRealGuard(t, Config{Deletes: DeleteLimit{MaxShare: 0.5}, Logger: quiet()})
	ctx := context.Background()
	app, err := milvus.Connect(ctx, milvus.Config{Address: rg.addr})
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	name := testenv.Collection(t, rg.direct, "guarddel", 100, 4)
	if err := rg.direct.Load(ctx, "default", name, nil); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		expr    string
		confirm bool
		refused bool
		left    int64
	}{
		{"id < 80", false, true, 100},
		{"id < 10", false, false, 90},
		{"id < 80", true, false, 20},
	}
	for _, s := range steps {
		cctx := ctx
		if s.confirm {
			cctx = metadata.AppendToOutgoingContext(ctx, ConfirmHeader, ConfirmDelete)
		}
		err := app.Delete(cctx, "default", name, s.expr)
		if refused := err != nil && strings.Contains(err.Error(), "refuses to delete"); refused != s.refused || (err != nil && !refused) {
			t.Errorf("delete %q (confirmed %v): got %v, want refused %v", s.expr, s.confirm, err, s.refused)
		}
		if left, err := rg.direct.Count(ctx, "default", name); err != nil || left != s.left {
			t.Errorf("after delete %q: %d rows left (%v), want %d", s.expr, left, err, s.left)
		}
	}
	checkAudit(t, rg.repo, name, OpRefuse)
}

// TestAuthenticationMilvus runs against a Milvus with authorization
// enabled (MILVAULT_TEST_AUTH_MILVUS, see milvus/dial_integration_test.go):
// through the guard, the right password works, a wrong one and none are
// refused by Milvus, and a drop moves the collection to the trash with the
// caller's own credentials.
func TestAuthenticationMilvus(t *testing.T) {
	addr := os.Getenv("MILVAULT_TEST_AUTH_MILVUS")
	if addr == "" {
		t.Skip("MILVAULT_TEST_AUTH_MILVUS is not set: no Milvus with authorization enabled to test against")
	}
	rg := startGuardAt(t, addr, "root:Milvus", Config{Logger: quiet()})
	ctx := context.Background()
	if _, err := milvus.Connect(ctx, milvus.Config{Address: rg.addr, Token: "root:wrong"}); err == nil || !strings.Contains(err.Error(), "refused the credentials") {
		t.Errorf("wrong password through the guard: got %v, want refused credentials", err)
	}
	name := testenv.Collection(t, rg.direct, "guardauth", 50, 4)
	if anon, err := milvus.Connect(ctx, milvus.Config{Address: rg.addr}); err == nil {
		err = anon.DropCollection(ctx, "default", name)
		anon.Close()
		if err == nil {
			t.Error("a drop without credentials through the guard succeeded")
		}
	}
	if has, _ := rg.direct.HasCollection(ctx, "default", name); !has {
		t.Fatalf("%s gone after a drop without credentials", name)
	}
	app, err := milvus.Connect(ctx, milvus.Config{Address: rg.addr, Token: "root:Milvus"})
	if err != nil {
		t.Fatalf("right password through the guard: %v", err)
	}
	defer app.Close()
	if err := app.DropCollection(ctx, "default", name); err != nil {
		t.Fatal(err)
	}
	it, err := (&Trash{Repo: rg.repo, Milvus: rg.direct}).Find(ctx, "default", name)
	if err != nil || it.Principal != "root" {
		t.Fatalf("trash item after an authenticated drop: %+v, %v", it, err)
	}
}
