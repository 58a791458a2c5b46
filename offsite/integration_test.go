package offsite_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/milvault/milvault/backup"
	"github.com/milvault/milvault/internal/testenv"
	"github.com/milvault/milvault/milvus"
	"github.com/milvault/milvault/offsite"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/faulty"
	"github.com/milvault/milvault/repo/local"
	"github.com/milvault/milvault/restore"
	"github.com/milvault/milvault/verify"
)

func localRepo(t *testing.T) (*repo.Repository, *local.Store) {
	t.Helper()
	s, err := local.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return newRepo(t, s), s
}

// TestCopyRestoreCompare backs up two collections, copies the backup to a
// second repository (interrupted once, then resumed), restores one
// collection from the copy and compares it row for row with the original.
func TestCopyRestoreCompare(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, tg testenv.Target, c *milvus.Client) {
		ctx := context.Background()
		a := testenv.Collection(t, c, "cp_a", 2000, 16)
		b := testenv.Collection(t, c, "cp_b", 1000, 16)
		src, _ := localRepo(t)
		res, err := backup.Run(ctx, backup.Deps{Milvus: c, Repo: src}, backup.Params{Collections: []string{a, b}})
		if err != nil {
			t.Fatal(err)
		}
		m := res.Manifest

		dst, ds := localRepo(t)
		broken := faulty.Wrap(ds, 1, faulty.Rule{Ops: []faulty.Op{faulty.Put}, Prefix: "data/", Nth: 2, Kind: faulty.Permanent})
		bdst, err := repo.Open(ctx, broken)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := offsite.Copy(ctx, src, bdst, m, offsite.Options{}); err == nil {
			t.Fatal("copy with a failing second file succeeded")
		}
		if list, _, _ := dst.List(ctx); len(list) != 0 {
			t.Fatalf("interrupted copy is listed")
		}
		cr, err := offsite.Copy(ctx, src, dst, m, offsite.Options{})
		if err != nil || cr.Copied != 1 || cr.Present != 1 {
			t.Fatalf("resumed copy = %+v, %v; want 1 copied, 1 present", cr, err)
		}
		copied, err := dst.Find(ctx, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		target := a + "_copy"
		t.Cleanup(func() { c.DropCollection(context.Background(), "default", target) })
		if _, err := restore.Run(ctx, restore.Deps{Milvus: c, Repo: dst}, copied, restore.Params{Collections: []string{a}, Target: target}); err != nil {
			t.Fatalf("restore from the copy: %v", err)
		}
		for _, coll := range []string{a, target} { // Milvus 2.3 queries only loaded collections
			if err := c.Load(ctx, "default", coll, nil); err != nil {
				t.Fatal(err)
			}
		}
		want, err := verify.Digest(ctx, c, "default", a)
		if err != nil {
			t.Fatal(err)
		}
		got, err := verify.Digest(ctx, c, "default", target)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) || len(got) == 0 || got[0].Rows != 2000 {
			t.Errorf("restored from the copy: %+v, original %+v", got, want)
		}
		t.Logf("%s: backup %s (%d files) copied after one interruption: %+v; restore from the copy compares equal", tg.Name, m.ID, len(m.Files()), cr)
	})
}
