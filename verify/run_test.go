package verify_test

import (
	"context"
	"testing"

	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/verify"
)

// TestRunRecordsProofs checks that each verification leaves a proof of its
// kind, and that options that cannot work are refused before anything is
// read or recorded.
func TestRunRecordsProofs(t *testing.T) {
	ctx := context.Background()
	r, lim, m := wrappedLocal(t)
	for _, bad := range []verify.Options{{Mode: "bogus"}, {Mode: verify.ModeQuick}, {Mode: verify.ModeQuick, Sample: 1.5}} {
		before := lim.Downloaded()
		if _, err := verify.Run(ctx, verify.Deps{Repo: r}, m, bad); err == nil || lim.Downloaded() != before {
			t.Errorf("Run(%+v) = %v after reading %d bytes; want an error before reading", bad, err, lim.Downloaded()-before)
		}
	}
	if _, err := verify.Run(ctx, verify.Deps{Repo: r}, m, verify.Options{Mode: verify.ModeDeep}); err == nil {
		t.Error("deep verification without Milvus succeeded")
	}
	for _, o := range []verify.Options{{}, {Mode: verify.ModeQuick, Sample: 0.5, Seed: 3}} {
		if _, err := verify.Run(ctx, verify.Deps{Repo: r}, m, o); err != nil {
			t.Fatal(err)
		}
	}
	proofs, err := r.Proofs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, p := range proofs[m.ID] {
		kinds = append(kinds, p.Kind)
		if !p.OK || p.Summary == "" {
			t.Errorf("proof %+v: want OK with a summary", p)
		}
	}
	if len(kinds) != 2 || kinds[0] != repo.ProofChecksum || kinds[1] != repo.ProofQuick {
		t.Errorf("recorded proofs %v, want [%s %s]", kinds, repo.ProofChecksum, repo.ProofQuick)
	}
}
