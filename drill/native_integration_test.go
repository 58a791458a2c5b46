package drill_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/milvault/milvault/backup"
	"github.com/milvault/milvault/drill"
	"github.com/milvault/milvault/internal/testenv"
	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/milvus"
	"github.com/milvault/milvault/native"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/local"
)

// nativeEnv connects to Milvus 2.3.5 on MinIO storage, or skips.
func nativeEnv(t *testing.T) (*milvus.Client, *native.Storage) {
	t.Helper()
	c, loc := testenv.NativeTarget(t)
	st, err := native.OpenStorage(context.Background(), loc)
	if err != nil {
		t.Fatal(err)
	}
	return c, st
}

func localRepo(t *testing.T) *repo.Repository {
	t.Helper()
	s, err := local.New(filepath.Join(t.TempDir(), "repo"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := repo.OpenOrInit(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestNativeDrill: a native backup of a collection with deleted rows is
// drilled by binlog import on the real Milvus 2.3.5: the drill passes
// with the live row count, sample searches that find their rows and a
// measured RTO, recorded as a proof; a logical backup of the same
// collection is drilled too (RTOs logged side by side).
func TestNativeDrill(t *testing.T) {
	c, st := nativeEnv(t)
	ctx := context.Background()
	const rows, deleted = 20000, 100
	name := testenv.Collection(t, c, "ndrill", rows, 32)
	if err := c.Load(ctx, "default", name, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(ctx, "default", name, "id < 100"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Flush(ctx, "default", name); err != nil {
		t.Fatal(err)
	}
	r := localRepo(t)
	nb, err := native.Backup(ctx, native.Deps{Milvus: c, Repo: r, Storage: st}, backup.Params{Collections: []string{name}})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := drill.Run(ctx, drill.Deps{Repo: r, Milvus: c, Storage: st}, nb.Manifest, drill.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cr := rep.Collections
	if !rep.OK || rep.Method != "binlog-import" || rep.RTOSeconds <= 0 || len(cr) != 1 || cr[0].Rows != rows-deleted || cr[0].ExpectedRows != rows-deleted || cr[0].Searches == 0 {
		t.Fatalf("native drill: %+v", rep)
	}
	all, err := r.Proofs(ctx)
	proofs := all[nb.Manifest.ID]
	if err != nil || len(proofs) == 0 || proofs[len(proofs)-1].Kind != repo.ProofDrill || !proofs[len(proofs)-1].OK {
		t.Fatalf("proofs after the native drill: %+v, %v", proofs, err)
	}
	lb, err := backup.Run(ctx, backup.Deps{Milvus: c, Repo: r}, backup.Params{Collections: []string{name}})
	if err != nil {
		t.Fatal(err)
	}
	lrep, err := drill.Run(ctx, drill.Deps{Repo: r, Milvus: c}, lb.Manifest, drill.Options{})
	if err != nil || !lrep.OK {
		t.Fatalf("logical drill: %+v, %v", lrep, err)
	}
	t.Logf("drill RTO of %d rows x 32-d: native (binlog import) %.1fs, logical (%s) %.1fs; native searches %d/%d", rows-deleted, rep.RTOSeconds, lrep.Method, lrep.RTOSeconds, cr[0].SearchHits, cr[0].Searches)
}

// TestNativeDrillFlippedByte: a flipped byte in a stored segment file
// fails the drill before any scratch collection is created; a drill
// without the target's storage is refused with advice.
func TestNativeDrillFlippedByte(t *testing.T) {
	c, st := nativeEnv(t)
	ctx := context.Background()
	name := testenv.Collection(t, c, "nflip", 2000, 8)
	r := localRepo(t)
	nb, err := native.Backup(ctx, native.Deps{Milvus: c, Repo: r, Storage: st}, backup.Params{Collections: []string{name}})
	if err != nil {
		t.Fatal(err)
	}
	m := nb.Manifest
	if _, err := drill.Run(ctx, drill.Deps{Repo: r, Milvus: c}, m, drill.Options{}); err == nil || !strings.Contains(err.Error(), "milvault convert") {
		t.Fatalf("drill of a native backup without the target's storage: %v, want a refusal advising convert", err)
	}
	flip(t, r, m.Collections[0].Segments[0].Binlogs[0].File)
	const suffix = "_flipdrill"
	rep, err := drill.Run(ctx, drill.Deps{Repo: r, Milvus: c, Storage: st}, m, drill.Options{Suffix: suffix})
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK || len(rep.Failures) == 0 || !strings.Contains(rep.Failures[0], "refusing to restore") {
		t.Fatalf("drill of a damaged native backup: %+v", rep)
	}
	if ok, err := c.HasCollection(ctx, "default", name+suffix); err != nil || ok {
		t.Fatalf("scratch collection %s exists (%v, %v)", name+suffix, ok, err)
	}
	t.Logf("drill failed before creating anything: %s", rep.Failures[0])
}

// flip flips one byte in the middle of stored file f of local repository r.
func flip(t *testing.T, r *repo.Repository, f manifest.File) {
	t.Helper()
	path := filepath.Join(r.Location(), filepath.FromSlash(f.Path))
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0x01
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestNativeDrillRefusedOnLite: Milvus Lite cannot import binlogs, so a
// drill of a native backup there is refused with the advice to convert,
// before anything is created or recorded.
func TestNativeDrillRefusedOnLite(t *testing.T) {
	c, st := nativeEnv(t)
	var liteAddr string
	for _, tg := range testenv.Targets(t) {
		if tg.Name == "lite" {
			liteAddr = tg.Address
		}
	}
	if liteAddr == "" {
		t.Skip("MILVAULT_TEST_TARGETS has no lite target (scripts/milvus-env.sh start lite)")
	}
	ctx := context.Background()
	lite, err := milvus.Connect(ctx, milvus.Config{Address: liteAddr})
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	name := testenv.Collection(t, c, "nlite", 500, 8)
	r := localRepo(t)
	nb, err := native.Backup(ctx, native.Deps{Milvus: c, Repo: r, Storage: st}, backup.Params{Collections: []string{name}})
	if err != nil {
		t.Fatal(err)
	}
	const suffix = "_litedrill"
	_, err = drill.Run(ctx, drill.Deps{Repo: r, Milvus: lite, Storage: st}, nb.Manifest, drill.Options{Suffix: suffix})
	var ni *native.NotImportableError
	if !errors.As(err, &ni) || !strings.Contains(err.Error(), "milvault convert") {
		t.Fatalf("drill of a native backup on Milvus Lite: %v, want a refusal advising convert", err)
	}
	if ok, err := lite.HasCollection(ctx, "default", name+suffix); err != nil || ok {
		t.Fatalf("scratch collection on Lite exists (%v, %v)", ok, err)
	}
	if all, err := r.Proofs(ctx); err != nil || len(all[nb.Manifest.ID]) != 0 {
		t.Fatalf("a refused drill recorded proofs: %v, %v", all[nb.Manifest.ID], err)
	}
}
