package drill_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"

	"github.com/milvault/milvault/backup"
	"github.com/milvault/milvault/drill"
	"github.com/milvault/milvault/internal/testenv"
	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/milvus"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/local"
	"github.com/milvault/milvault/restore"
	"github.com/milvault/milvault/verify"
)

// TestDeepCatchesTampering restores a backup, then deletes one row and alters
// one vector in the restored copy: comparing it with the backup must name
// both keys. A drill and a deep verification of the untouched backup pass and
// leave no scratch collection behind.
func TestDeepCatchesTampering(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, tg testenv.Target, c *milvus.Client) {
		ctx := context.Background()
		name := fmt.Sprintf("deep_src_%d", rand.Uint32())
		createCollection(t, c, name, 600)
		s, _ := local.New(filepath.Join(t.TempDir(), "repo"))
		r, err := repo.OpenOrInit(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		res, err := backup.Run(ctx, backup.Deps{Milvus: c, Repo: r}, backup.Params{Collections: []string{name}})
		if err != nil {
			t.Fatal(err)
		}
		m := res.Manifest
		copyName := name + "_copy"
		if _, err := restore.Run(ctx, restore.Deps{Milvus: c, Repo: r}, m, restore.Params{Target: copyName, Load: restore.LoadAlways}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.DropCollection(context.Background(), "default", copyName) })
		tamper(t, c, copyName)
		cc, err := verify.CompareWithBackup(ctx, r, c, &m.Collections[0], "default", copyName)
		if err != nil {
			t.Fatal(err)
		}
		got := fmt.Sprint(cc.Match, cc.Partitions[0].Diffs)
		if want := "false [{5 missing} {7 different}]"; got != want {
			t.Fatalf("comparison of the tampered copy = %s, want %s", got, want)
		}
		checkDeepAndDrill(t, c, r, m, name)
	})
}

func checkDeepAndDrill(t *testing.T, c *milvus.Client, r *repo.Repository, m *manifest.Manifest, name string) {
	ctx := context.Background()
	rep, err := verify.Run(ctx, verify.Deps{Repo: r, Milvus: c}, m, verify.Options{Mode: verify.ModeDeep})
	if err != nil || !rep.OK {
		t.Fatalf("deep verification of an intact backup = %+v, %v; want OK", rep, err)
	}
	dr, err := drill.Run(ctx, drill.Deps{Repo: r, Milvus: c}, m, drill.Options{Samples: 5})
	if err != nil || !dr.OK || dr.RTOSeconds <= 0 || dr.Collections[0].SearchHits < 4 {
		t.Fatalf("drill = %+v, %v; want OK with an RTO and sample searches finding their rows", dr, err)
	}
	t.Logf("drill RTO %.2fs, searches %d/%d", dr.RTOSeconds, dr.Collections[0].SearchHits, dr.Collections[0].Searches)
	names, _ := c.ListCollections(ctx, "default")
	if slices.ContainsFunc(names, func(n string) bool { return len(n) > len(name) && n[:len(name)] == name && n != name+"_copy" }) {
		t.Fatalf("scratch collections left behind: %v", names)
	}
	proofs, _ := r.Proofs(ctx)
	if len(proofs[m.ID]) != 2 {
		t.Fatalf("recorded proofs = %v, want a deep verification and a drill", proofs[m.ID])
	}
}

// tamper deletes key 5 and rewrites key 7 with another vector.
func tamper(t *testing.T, c *milvus.Client, name string) {
	ctx := context.Background()
	if err := c.Delete(ctx, "default", name, "id in [5, 7]"); err != nil {
		t.Fatal(err)
	}
	if err := c.Insert(ctx, "default", name, "", rows(7, 1, 99), 1); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Flush(ctx, "default", name); err != nil {
		t.Fatal(err)
	}
}

func createCollection(t *testing.T, c *milvus.Client, name string, n int) {
	t.Helper()
	ctx := context.Background()
	schema := &schemapb.CollectionSchema{Name: name, Fields: []*schemapb.FieldSchema{
		{Name: "id", DataType: schemapb.DataType_Int64, IsPrimaryKey: true},
		{Name: "v", DataType: schemapb.DataType_FloatVector, TypeParams: []*commonpb.KeyValuePair{{Key: "dim", Value: "8"}}},
	}}
	if err := c.CreateCollection(ctx, milvus.CreateCollectionRequest{Database: "default", Schema: schema}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.DropCollection(context.Background(), "default", name) })
	if err := c.Insert(ctx, "default", name, "", rows(0, n, 0), n); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Flush(ctx, "default", name); err != nil {
		t.Fatal(err)
	}
	if err := c.CreateIndex(ctx, "default", name, "v", "v", map[string]string{"index_type": "FLAT", "metric_type": "L2"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Load(ctx, "default", name, nil); err != nil {
		t.Fatal(err)
	}
}

// rows builds n rows from key first; offset shifts every vector value.
func rows(first, n int, offset float32) []*schemapb.FieldData {
	ids, vs := make([]int64, n), make([]float32, 0, 8*n)
	for i := range n {
		k := first + i
		ids[i] = int64(k)
		for j := range 8 {
			vs = append(vs, float32(k*8+j)/100+offset)
		}
	}
	return []*schemapb.FieldData{
		milvus.Int64Column("id", ids),
		milvus.FloatVectorColumn("v", 8, vs),
	}
}
