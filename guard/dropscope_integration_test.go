package guard

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"

	"github.com/milvault/milvault/audit"
	"github.com/milvault/milvault/backup"
	"github.com/milvault/milvault/milvus"
	"github.com/milvault/milvault/restore"
)

// scopeGuard starts a guard whose partition and database policies are
// backup, backing up with backup.Run on Milvus directly.
func scopeGuard(t *testing.T) realGuard {
	var rg realGuard
	rg = startRealGuard(t, Config{Partitions: PolicyBackup, Databases: PolicyBackup, Logger: quiet(),
		BackupScope: func(ctx context.Context, s Scope) (string, error) {
			p := backup.Params{Database: s.Database, Collections: s.Collections}
			if s.Partition != "" {
				p.Partitions = []string{s.Partition}
			}
			res, err := backup.Run(ctx, backup.Deps{Milvus: rg.direct, Repo: rg.repo}, p)
			if err != nil {
				return "", err
			}
			return res.Manifest.ID, nil
		}})
	return rg
}

// filled creates collection name in db with rows rows in partition part
// ("" for the default one), id starting at from.
func filled(t *testing.T, c *milvus.Client, db, name, part string, from, rows int) {
	t.Helper()
	ctx := context.Background()
	if has, _ := c.HasCollection(ctx, db, name); !has {
		schema := &schemapb.CollectionSchema{Name: name, Fields: []*schemapb.FieldSchema{
			{Name: "id", DataType: schemapb.DataType_Int64, IsPrimaryKey: true},
			{Name: "v", DataType: schemapb.DataType_FloatVector, TypeParams: []*commonpb.KeyValuePair{{Key: "dim", Value: strconv.Itoa(4)}}},
		}}
		if err := c.CreateCollection(ctx, milvus.CreateCollectionRequest{Database: db, Schema: schema}); err != nil {
			t.Fatal(err)
		}
		if err := c.CreateIndex(ctx, db, name, "v", "v_flat", map[string]string{"index_type": "FLAT", "metric_type": "L2"}); err != nil {
			t.Fatal(err)
		}
	}
	if part != "" {
		if err := c.CreatePartition(ctx, db, name, part); err != nil {
			t.Fatal(err)
		}
	}
	ids, vecs := make([]int64, rows), make([]float32, 4*rows)
	for i := range ids {
		ids[i] = int64(from + i)
	}
	if err := c.Insert(ctx, db, name, part, []*schemapb.FieldData{milvus.Int64Column("id", ids), milvus.FloatVectorColumn("v", 4, vecs)}, rows); err != nil {
		t.Fatal(err)
	}
}

// auditOps returns the operations of the successful entries naming
// db.name, with their parameters.
func auditOps(t *testing.T, rg realGuard, db, name string) ([]string, []map[string]any) {
	t.Helper()
	entries, err := audit.List(context.Background(), rg.repo, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	var params []map[string]any
	for _, e := range entries {
		if slices.Contains(e.Collections, db+"."+name) && e.Result == audit.ResultOK {
			ops, params = append(ops, e.Operation), append(params, e.Params)
		}
	}
	return ops, params
}

// TestDropPartitionBackupMilvus drops a partition through the guard under
// the backup policy (Milvus 2.3.5): the partition is gone, a backup holds
// its rows, the audit names it, and restoring the backup under another
// name brings the rows back.
func TestDropPartitionBackupMilvus(t *testing.T) {
	rg := scopeGuard(t)
	ctx := context.Background()
	app, err := milvus.Connect(ctx, milvus.Config{Address: rg.addr})
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	name := fmt.Sprintf("guardpart_%d", rand.Uint32())
	t.Cleanup(func() { rg.direct.DropCollection(context.Background(), "default", name) })
	filled(t, rg.direct, "default", name, "", 0, 100)
	filled(t, rg.direct, "default", name, "p1", 100, 250)
	resp, err := app.Service().DropPartition(ctx, &milvuspb.DropPartitionRequest{CollectionName: name, PartitionName: "p1"})
	if err != nil || resp.GetErrorCode() != commonpb.ErrorCode_Success {
		t.Fatalf("drop partition through the guard: %v %v", resp, err)
	}
	if parts, _ := rg.direct.Partitions(ctx, "default", name); slices.Contains(parts, "p1") {
		t.Fatalf("partition p1 still exists: %v", parts)
	}
	ops, params := auditOps(t, rg, "default", name)
	if !slices.Equal(ops, []string{OpDrop}) || params[0]["partition"] != "p1" {
		t.Fatalf("audit: got %v %v, want one guard.drop of partition p1", ops, params)
	}
	m, err := rg.repo.Latest(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	if m.ID != params[0]["backup_id"] || len(m.Collections[0].Partitions) != 1 || m.Collections[0].Partitions[0].Rows != 250 {
		t.Fatalf("backup %s: got %+v, want partition p1 with 250 rows", m.ID, m.Collections[0].Partitions)
	}
	restoredRows(t, rg, m.ID, name, 250)
}

// restoredRows restores backup id's collection coll under a new name and
// checks its row count.
func restoredRows(t *testing.T, rg realGuard, id, coll string, want int64) {
	t.Helper()
	ctx := context.Background()
	m, err := rg.repo.Find(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	target := fmt.Sprintf("guardrestored_%d", rand.Uint32())
	t.Cleanup(func() { rg.direct.DropCollection(context.Background(), "default", target) })
	if _, err := restore.Run(ctx, restore.Deps{Milvus: rg.direct, Repo: rg.repo}, m,
		restore.Params{Collections: []string{coll}, Database: "default", Target: target, Load: restore.LoadAlways}); err != nil {
		t.Fatal(err)
	}
	if n, err := rg.direct.Count(ctx, "default", target); err != nil || n != want {
		t.Errorf("restored %s: got %d rows (%v), want %d", target, n, err, want)
	}
}

// TestDropDatabaseBackupMilvus drops a database through the guard under
// the backup policy (Milvus 2.3.5). While it holds a collection Milvus
// refuses the drop and nothing is backed up; once the application has
// dropped that collection (into the guard's trash), the drop backs up the
// trash collection, purges it and drops the database; the backup restores.
func TestDropDatabaseBackupMilvus(t *testing.T) {
	rg := scopeGuard(t)
	ctx := context.Background()
	app, err := milvus.Connect(ctx, milvus.Config{Address: rg.addr})
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	db, name := fmt.Sprintf("guarddb_%d", rand.Uint32()), "items"
	if err := rg.direct.CreateDatabase(ctx, db); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dropDatabaseDirect(rg, db) })
	filled(t, rg.direct, db, name, "", 0, 300)
	dropDB := func() (*commonpb.Status, error) {
		return app.Service().DropDatabase(ctx, &milvuspb.DropDatabaseRequest{DbName: db})
	}
	if st, err := dropDB(); err == nil && st.GetErrorCode() == commonpb.ErrorCode_Success {
		t.Fatal("Milvus dropped a database that holds a collection")
	}
	if err := app.DropCollection(ctx, db, name); err != nil {
		t.Fatal(err)
	}
	it, err := (&Trash{Repo: rg.repo, Milvus: rg.direct}).Find(ctx, db, name)
	if err != nil {
		t.Fatal(err)
	}
	if has, err := rg.direct.HasCollection(ctx, db, it.Name); err != nil || !has {
		t.Fatalf("the trash collection %s is not in database %s (%v): the rename moved it", it.Name, db, err)
	}
	if st, err := dropDB(); err != nil || st.GetErrorCode() != commonpb.ErrorCode_Success {
		t.Fatalf("drop database through the guard: %v %v", st, err)
	}
	if dbs, _ := rg.direct.ListDatabases(ctx); slices.Contains(dbs, db) {
		t.Fatalf("database %s still exists", db)
	}
	if items, _ := (&Trash{Repo: rg.repo, Milvus: rg.direct}).List(ctx); slices.ContainsFunc(items, func(i Item) bool { return i.Database == db }) {
		t.Errorf("trash still lists items of %s", db)
	}
	ops, params := auditOps(t, rg, db, "*")
	if !slices.Equal(ops, []string{OpDrop}) || params[0]["backup_id"] == "" {
		t.Fatalf("audit of the database drop: got %v %v, want one guard.drop with a backup", ops, params)
	}
	if ops, _ := auditOps(t, rg, db, name); !slices.Equal(ops, []string{OpDrop, OpPurge}) {
		t.Errorf("audit of %s: got %v, want guard.drop then trash.purge", name, ops)
	}
	restoredRows(t, rg, params[0]["backup_id"].(string), db+"."+it.Name, 300)
}

// dropDatabaseDirect removes what a failed test left in db.
func dropDatabaseDirect(rg realGuard, db string) {
	ctx := context.Background()
	names, _ := rg.direct.ListCollections(ctx, db)
	for _, n := range names {
		rg.direct.DropCollection(ctx, db, n)
	}
	rg.direct.Service().DropDatabase(ctx, &milvuspb.DropDatabaseRequest{DbName: db})
}
