package verify_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/milvault/milvault/backup"
	"github.com/milvault/milvault/internal/testenv"
	"github.com/milvault/milvault/native"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/local"
	"github.com/milvault/milvault/verify"
)

// TestNativeQuickAndDeep: quick and deep verifications of a native backup
// of the real Milvus 2.3.5 (MinIO storage) pass: quick compares decoded
// rows with the source, deep restores by binlog import and compares every
// decoded row. Deep without the storage is refused with advice; after a
// flipped byte both fail, naming the file.
func TestNativeQuickAndDeep(t *testing.T) {
	c, loc := testenv.NativeTarget(t)
	ctx := context.Background()
	st, err := native.OpenStorage(ctx, loc)
	if err != nil {
		t.Fatal(err)
	}
	const rows = 3000
	name := testenv.Collection(t, c, "nverify", rows, 16)
	if err := c.Load(ctx, "default", name, nil); err != nil { // quick reads sampled keys from the source
		t.Fatal(err)
	}
	s, _ := local.New(filepath.Join(t.TempDir(), "repo"))
	r, err := repo.OpenOrInit(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	nb, err := native.Backup(ctx, native.Deps{Milvus: c, Repo: r, Storage: st}, backup.Params{Collections: []string{name}})
	if err != nil {
		t.Fatal(err)
	}
	m := nb.Manifest
	quick, err := verify.Run(ctx, verify.Deps{Repo: r, Milvus: c}, m, verify.Options{Mode: verify.ModeQuick, Sample: 0.5, Seed: 3})
	if err != nil || !quick.OK || len(quick.Source) != 1 || quick.Source[0].Sampled == 0 || len(quick.Source[0].Diffs) != 0 {
		t.Fatalf("quick verification of a native backup: %+v, %v", quick, err)
	}
	if _, err := verify.Run(ctx, verify.Deps{Repo: r, Milvus: c}, m, verify.Options{Mode: verify.ModeDeep}); err == nil || !strings.Contains(err.Error(), "milvault convert") {
		t.Fatalf("deep verification without the storage: %v, want a refusal advising convert", err)
	}
	deep, err := verify.Run(ctx, verify.Deps{Repo: r, Milvus: c, Storage: st}, m, verify.Options{Mode: verify.ModeDeep})
	if err != nil || !deep.OK || deep.Rows != rows || len(deep.Collections) != 1 || !deep.Collections[0].Match {
		t.Fatalf("deep verification of a native backup: %+v, %v", deep, err)
	}
	f := m.Collections[0].Segments[0].Binlogs[0].File
	path := filepath.Join(r.Location(), filepath.FromSlash(f.Path))
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0x01
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []string{verify.ModeQuick, verify.ModeDeep} {
		rep, err := verify.Run(ctx, verify.Deps{Repo: r, Milvus: c, Storage: st}, m, verify.Options{Mode: mode, Sample: 0.5})
		if err != nil || rep.OK || len(rep.Damaged) != 1 || rep.Damaged[0].Path != f.Path {
			t.Fatalf("%s verification after a flipped byte in %s: %+v, %v", mode, f.Path, rep, err)
		}
	}
}
