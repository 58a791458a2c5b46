package doctor

import (
	"slices"
	"testing"
	"time"
)

func TestCheckCoverage(t *testing.T) {
	now := time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC)
	docs := CollectionRef{Database: "default", Name: "docs"}
	other := CollectionRef{Database: "sales", Name: "orders"}
	fresh := BackupInfo{ID: "b1", CreatedAt: now.Add(-2 * time.Hour), Collections: []CollectionRef{{Name: "docs"}},
		Proofs: []ProofInfo{{Kind: "verify-quick", OK: true, At: now.Add(-time.Hour)}}}
	old := BackupInfo{ID: "b0", CreatedAt: now.Add(-72 * time.Hour), Collections: []CollectionRef{docs}}
	failedProof := fresh
	failedProof.Proofs = []ProofInfo{{Kind: "drill", OK: false, At: now}}
	cases := []struct {
		name    string
		live    []CollectionRef
		backups []BackupInfo
		want    []string
	}{
		{"fresh and verified", []CollectionRef{docs}, []BackupInfo{fresh}, []string{}},
		{"no backup", []CollectionRef{docs, other}, []BackupInfo{fresh}, []string{"critical backup-coverage"}},
		{"only an old unverified backup", []CollectionRef{docs}, []BackupInfo{old}, []string{"warning backup-coverage", "warning backup-coverage"}},
		{"newest wins, proof of older counts", []CollectionRef{docs}, []BackupInfo{old, {ID: "b2", CreatedAt: now, Collections: []CollectionRef{docs}}, fresh}, []string{}},
		{"failed proof does not count", []CollectionRef{docs}, []BackupInfo{failedProof}, []string{"warning backup-coverage"}},
		{"no live list: judge backed-up collections", nil, []BackupInfo{old}, []string{"warning backup-coverage", "warning backup-coverage"}},
		{"empty server", []CollectionRef{}, []BackupInfo{old}, []string{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := summarize(CheckCoverage(Coverage{Live: c.live, Backups: c.backups, Now: now, RPO: 24 * time.Hour, VerifyWithin: 7 * 24 * time.Hour}))
			if !slices.Equal(got, c.want) {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}
