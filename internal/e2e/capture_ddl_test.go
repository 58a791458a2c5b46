package e2e

import (
	"context"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"

	"github.com/milvault/milvault/internal/testenv"
	"github.com/milvault/milvault/milvus"
)

// TestGuardCaptureDDLCommands creates a collection through a capturing
// guard process, writes, renames it and writes again, with no backup at
// all: milvault log lists the schema changes, restore --at-ts by the new
// name builds the collection from its captured creation with every row,
// and restore by the old name says it was renamed (exit 3).
func TestGuardCaptureDDLCommands(t *testing.T) {
	addr := milvus23Target(t)
	e := newEnv(t, addr)
	repoDir := newRepo(t)
	listen := testenv.FreeAddr(t)
	startGuardProcess(t, binary(t, e.root), addr, repoDir, listen)
	ctx := testContext(t)
	app, err := milvus.Connect(ctx, milvus.Config{Address: listen})
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	name := uniqueName("capddl")
	renamed := name + "_new"
	e.dropLater(t, name)
	e.dropLater(t, renamed)
	schema := &schemapb.CollectionSchema{Name: name, Fields: []*schemapb.FieldSchema{
		{Name: "id", DataType: schemapb.DataType_Int64, IsPrimaryKey: true},
		{Name: "vec", DataType: schemapb.DataType_FloatVector, TypeParams: []*commonpb.KeyValuePair{{Key: "dim", Value: "2"}}},
	}}
	if err := app.CreateCollection(ctx, milvus.CreateCollectionRequest{Database: "default", Schema: schema}); err != nil {
		t.Fatal(err)
	}
	if err := app.CreateIndex(ctx, "default", name, "vec", "vec_flat", map[string]string{"index_type": "FLAT", "metric_type": "L2"}); err != nil {
		t.Fatal(err)
	}
	insertRows(t, app, name, 1, 5)
	if err := app.RenameCollection(ctx, "default", name, renamed); err != nil {
		t.Fatal(err)
	}
	last := insertRows(t, app, renamed, 6, 8)

	out := e.mustRun(t, repoDir, "log", "-c", renamed)
	for _, want := range []string{"RenameCollection", "to default." + renamed} {
		if !strings.Contains(out.stdout, want) {
			t.Errorf("milvault log -c %s does not show %q:\n%s", renamed, want, out.stdout)
		}
	}
	out = e.mustRun(t, repoDir, "log", "-c", name)
	if !strings.Contains(out.stdout, "CreateCollection") || !strings.Contains(out.stdout, "CreateIndex") {
		t.Errorf("milvault log -c %s does not show the creation and the index:\n%s", name, out.stdout)
	}
	target := renamed + "_pitr"
	e.dropLater(t, target)
	at := strconv.FormatUint(last, 10)
	r := e.mustRun(t, repoDir, "restore", "--at-ts", at, "-c", renamed, "--target", target, "--load")
	if !strings.Contains(r.stdout, "from its creation in the capture log") {
		t.Errorf("restore --at-ts without a backup: %s", r)
	}
	if n, err := e.client.CountRows(ctx, "default", target, nil); err != nil || n != 8 {
		t.Errorf("%s holds %d rows (%v), want the 8 written under both names", target, n, err)
	}
	expectFailure(t, e.milvault(t, repoDir, "restore", "--at-ts", at, "-c", name, "--target", target+"_x"), 3, "renamed to default."+renamed)
}

// insertRows inserts keys from..to through app and returns the
// insert's timestamp.
func insertRows(t *testing.T, app *milvus.Client, coll string, from, to int64) uint64 {
	t.Helper()
	var keys []int64
	var vecs []float32
	for k := from; k <= to; k++ {
		keys = append(keys, k)
		vecs = append(vecs, rand.Float32(), rand.Float32())
	}
	resp, err := app.Service().Insert(context.Background(), &milvuspb.InsertRequest{CollectionName: coll, NumRows: uint32(len(keys)),
		FieldsData: []*schemapb.FieldData{milvus.Int64Column("id", keys), milvus.FloatVectorColumn("vec", 2, vecs)}})
	if err != nil || resp.GetStatus().GetErrorCode() != commonpb.ErrorCode_Success {
		t.Fatalf("insert into %s through the guard: %v %v", coll, err, resp.GetStatus())
	}
	return resp.GetTimestamp()
}
