package pitr_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"

	"github.com/milvault/milvault/milvus"
	"github.com/milvault/milvault/pitr"
	"github.com/milvault/milvault/restore"
)

// TestPointInTimeAcrossRenameAndDrop renames a collection through a
// capturing guard (fail-closed) in the middle of a workload, then drops it
// and creates it again with another schema, and checks each restore: by
// the new name after the rename, refused after the drop, still possible
// before it, from the captured creation of the new collection, then from
// a backup of it.
func TestPointInTimeAcrossRenameAndDrop(t *testing.T) {
	addr, r := guardedRepo(t)
	ctx := context.Background()
	direct := connect(t, addr)
	w := &world{t: t, app: connect(t, guardPort), coll: createCollection(t, direct), cur: state{}}
	oldName, newName := w.coll, w.coll+"_renamed"
	t.Cleanup(func() { direct.DropCollection(context.Background(), "default", newName) })

	w.insert(ids(1, 20), 1)
	takeBackup(t, direct, r, oldName)
	time.Sleep(300 * time.Millisecond)
	w.upsert(ids(5, 10), 2)
	w.delete([]int64{1, 2, 3})
	if err := w.app.RenameCollection(ctx, "default", oldName, newName); err != nil {
		t.Fatal(err)
	}
	w.coll = newName
	w.insert(ids(21, 30), 3)
	w.delete([]int64{4})
	w.upsert(ids(11, 12), 9)
	w.insertInto("p1", ids(200, 203), 7)
	if t.Failed() {
		t.FailNow()
	}
	afterRename := w.steps[len(w.steps)-1].ts

	check := func(name string, at uint64, target string) *pitr.Result {
		t.Helper()
		t.Cleanup(func() { direct.DropCollection(context.Background(), "default", target) })
		res, err := pitr.Run(ctx, pitr.Deps{Milvus: direct, Repo: r}, pitr.Params{Collection: name, At: at,
			Restore: restore.Params{Target: target, Load: restore.LoadAlways}})
		if err != nil {
			t.Fatalf("restore %s at %d: %v", name, at, err)
		}
		if got, want := readState(t, direct, target), w.at(at); diff(got, want) != "" {
			t.Errorf("%s restored at %d from %s (replayed %v) differs from what the application saw:\n%s", name, at, res.BackupCollection, res.Counts, diff(got, want))
		}
		return res
	}
	check(newName, afterRename, newName+"_at1")
	_, err := pitr.MakePlan(ctx, r, pitr.Params{Collection: oldName, At: afterRename})
	var re *pitr.RenamedError
	if !errors.As(err, &re) || !strings.Contains(err.Error(), newName) {
		t.Errorf("restore of the old name after the rename: got %v, want a RenamedError naming %s", err, newName)
	}

	if err := w.app.DropCollection(ctx, "default", newName); err != nil {
		t.Fatal(err)
	}
	afterDrop := allocTS(t, direct)
	_, err = pitr.MakePlan(ctx, r, pitr.Params{Collection: newName, At: afterDrop})
	var de *pitr.DroppedError
	if !errors.As(err, &de) || de.DroppedAt <= afterRename || de.DroppedAt > afterDrop || !strings.Contains(err.Error(), fmt.Sprintf("--at-ts %d", de.DroppedAt-1)) {
		t.Errorf("restore after the drop: got %v, want a DroppedError between %d and %d naming the last restorable time", err, afterRename, afterDrop)
	}
	check(newName, afterRename, newName+"_at2") // before the drop: still works

	recreateWithOtherSchema(t, w, newName)
	// No backup of the new collection: it is built from its captured
	// creation (schema with the extra field, index) and writes.
	afterCreate := w.steps[len(w.steps)-1].ts
	if res := check(newName, afterCreate, newName+"_at3"); res.Backup != nil || res.Created == nil {
		t.Errorf("restore of the new collection used backup %s, want its captured creation", res.BackupID)
	}
	desc, err := direct.Describe(ctx, "default", newName+"_at3")
	if err != nil || len(desc.GetSchema().GetFields()) != 4 {
		t.Errorf("the collection built from the capture log has %d fields (%v), want the new schema's 4", len(desc.GetSchema().GetFields()), err)
	}
	takeBackup(t, direct, r, newName)
	time.Sleep(300 * time.Millisecond)
	w.insertExtra(ids(60, 62), 11)
	if res := check(newName, w.steps[len(w.steps)-1].ts, newName+"_at4"); res.Backup == nil {
		t.Errorf("restore after a backup of the new collection did not use it")
	}
}

// recreateWithOtherSchema creates coll again through the guard, with an
// extra field, and writes into it.
func recreateWithOtherSchema(t *testing.T, w *world, coll string) {
	t.Helper()
	ctx := context.Background()
	schema := &schemapb.CollectionSchema{Name: coll, Fields: []*schemapb.FieldSchema{
		{Name: "id", DataType: schemapb.DataType_Int64, IsPrimaryKey: true},
		{Name: "val", DataType: schemapb.DataType_Int64},
		{Name: "extra", DataType: schemapb.DataType_Int64},
		{Name: "vec", DataType: schemapb.DataType_FloatVector, TypeParams: []*commonpb.KeyValuePair{{Key: "dim", Value: "4"}}},
	}}
	if err := w.app.CreateCollection(ctx, milvus.CreateCollectionRequest{Database: "default", Schema: schema}); err != nil {
		t.Fatal(err)
	}
	if err := w.app.CreateIndex(ctx, "default", coll, "vec", "vec_flat", map[string]string{"index_type": "FLAT", "metric_type": "L2"}); err != nil {
		t.Fatal(err)
	}
	w.mu.Lock()
	w.cur = state{} // a new collection
	w.mu.Unlock()
	w.insertExtra(ids(50, 55), 10)
}

func (w *world) insertExtra(keys []int64, val int64) {
	fields := append(columns(keys, val), milvus.Int64Column("extra", keys))
	resp, err := w.app.Service().Insert(context.Background(), &milvuspb.InsertRequest{CollectionName: w.coll, FieldsData: fields, NumRows: uint32(len(keys))})
	w.record(fmt.Sprintf("insert extra %d..%d=%d", keys[0], keys[len(keys)-1], val), resp, err, func(s state) {
		for _, k := range keys {
			s[k] = val
		}
	})
}

func allocTS(t *testing.T, c *milvus.Client) uint64 {
	t.Helper()
	resp, err := c.Service().AllocTimestamp(context.Background(), &milvuspb.AllocTimestampRequest{})
	if err != nil || resp.GetTimestamp() == 0 {
		t.Fatalf("alloc timestamp: %v", err)
	}
	return resp.GetTimestamp()
}
