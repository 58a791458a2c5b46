package verify_test

import (
	"context"
	"strings"
	"testing"

	"github.com/milvault/milvault/internal/testbackup"
	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/faulty"
	"github.com/milvault/milvault/repo/limit"
	"github.com/milvault/milvault/verify"
)

// wrappedLocal writes a small backup into a local repository and reopens
// it through faulty (with rules) and limit, the way --download-limit and
// fault injection wrap a store.
func wrappedLocal(t *testing.T, rules ...faulty.Rule) (*repo.Repository, *limit.Store, *manifest.Manifest) {
	t.Helper()
	l, m := testbackup.Local(t)
	lim := limit.New(faulty.New(l, 1, rules...), limit.Options{})
	r, err := repo.Open(context.Background(), lim)
	if err != nil {
		t.Fatal(err)
	}
	return r, lim, m
}

// TestVerifyReadsThroughWrappers checks that checksum and quick verification
// of a local repository read every byte through the store's wrappers: the
// checksum pass reads each file once, and the quick pass reads it once more
// for checksums and again (the Parquet footer and column chunks, with
// ranged reads) to decode its rows.
func TestVerifyReadsThroughWrappers(t *testing.T) {
	ctx := context.Background()
	r, lim, m := wrappedLocal(t)
	total := m.TotalBytes()
	rep, err := verify.Run(ctx, verify.Deps{Repo: r}, m, verify.Options{Mode: verify.ModeChecksum})
	if err != nil || !rep.OK {
		t.Fatalf("checksum verification = %+v, %v; want OK", rep, err)
	}
	manifests := lim.Downloaded() - total // the manifest and config reads
	if got := lim.Downloaded(); got < total || manifests > 64<<10 {
		t.Fatalf("checksum verification read %d bytes through limit, want the %d bytes of the data files", got, total)
	}
	before := lim.Downloaded()
	rep, err = verify.Run(ctx, verify.Deps{Repo: r}, m, verify.Options{Mode: verify.ModeQuick, Sample: 1, Seed: 7})
	if err != nil || !rep.OK || rep.Rows != m.TotalRows() {
		t.Fatalf("quick verification = %+v, %v; want OK with %d rows", rep, err, m.TotalRows())
	}
	parquet := lim.Downloaded() - before - total
	if parquet < total*9/10 || parquet > total*2 {
		t.Errorf("quick verification decoded %d bytes through limit, want about the %d bytes of the data files", parquet, total)
	}
	t.Logf("data %d bytes; checksum pass read %d, quick pass %d (%d of them for Parquet)", total, before, lim.Downloaded()-before, parquet)
}

// TestVerifyFailsOnInjectedReadFault injects a permanent fault into the
// reads of one data file: checksum verification fails and names it, and
// quick verification (fault on the first ranged read, after the checksum
// read) reports the file as damaged with the fault.
func TestVerifyFailsOnInjectedReadFault(t *testing.T) {
	ctx := context.Background()
	_, _, m := wrappedLocal(t) // the same backup each time: names and bytes repeat
	path := m.Files()[1].Path
	r, _, _ := wrappedLocal(t, faulty.Rule{Ops: []faulty.Op{faulty.Open}, Prefix: path, Nth: 1, Kind: faulty.Permanent})
	_, err := verify.Run(ctx, verify.Deps{Repo: r}, m, verify.Options{Mode: verify.ModeChecksum})
	if err == nil || !strings.Contains(err.Error(), "injected permanent fault: open "+path) {
		t.Fatalf("checksum verification with a read fault = %v, want an error naming the fault and %s", err, path)
	}
	r, _, _ = wrappedLocal(t, faulty.Rule{Ops: []faulty.Op{faulty.Open}, Prefix: path, Nth: 2, Kind: faulty.Permanent})
	rep, err := verify.Run(ctx, verify.Deps{Repo: r}, m, verify.Options{Mode: verify.ModeQuick, Sample: 1, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK || len(rep.Damaged) != 1 || rep.Damaged[0].Path != path || !strings.Contains(rep.Damaged[0].Problem, "injected permanent fault") {
		t.Fatalf("quick verification with a ranged-read fault = OK %v, damaged %+v; want %s reported with the fault", rep.OK, rep.Damaged, path)
	}
}
