package repo

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/milvault/milvault/manifest"
)

// Proof kinds: what was done to prove a backup restorable.
const (
	ProofChecksum = "verify-checksum"
	ProofQuick    = "verify-quick"
	ProofDeep     = "verify-deep"
	ProofDrill    = "drill"
)

// Proof records one verification or drill of a backup. Proofs are kept
// under proofs/<backup-id>/ and removed with the backup.
type Proof struct {
	BackupID string    `json:"backup_id"`
	Kind     string    `json:"kind"`
	OK       bool      `json:"ok"`
	At       time.Time `json:"at"`
	Summary  string    `json:"summary"`
	// RTOSeconds is the measured time to a loaded, searchable collection
	// (drills only).
	RTOSeconds float64 `json:"rto_seconds,omitempty"`
	// Report is the full machine-readable report, if any.
	Report json.RawMessage `json:"report,omitempty"`
}

func proofPrefix(id string) string { return "proofs/" + id + "/" }

// RecordProof stores p (encrypted, but for its backup id, kind, outcome and
// time, in an encrypted repository).
func (r *Repository) RecordProof(ctx context.Context, p Proof) error {
	if err := manifest.ValidateRef("id", p.BackupID); err != nil {
		return err
	}
	if p.At.IsZero() {
		p.At = r.now().UTC()
	}
	name := fmt.Sprintf("%s%s-%s.json", proofPrefix(p.BackupID), p.At.UTC().Format("20060102T150405.000000000Z"), p.Kind)
	public := Proof{BackupID: p.BackupID, Kind: p.Kind, OK: p.OK, At: p.At}
	if err := r.putRecord(r.retained(ctx), name, p, public); err != nil {
		return fmt.Errorf("record %s of %s: %w", p.Kind, p.BackupID, err)
	}
	return nil
}

// Proofs returns every recorded proof by backup id, oldest first. Unreadable
// records are skipped. In an encrypted repository read without its key
// only their backup id, kind, outcome and time are known (no summary, no
// report).
func (r *Repository) Proofs(ctx context.Context) (map[string][]Proof, error) {
	files, err := r.store.List(ctx, "proofs/")
	if err != nil {
		return nil, fmt.Errorf("list proofs: %w", err)
	}
	out := map[string][]Proof{}
	for _, f := range files {
		if !strings.HasSuffix(f.Name, ".json") {
			continue
		}
		p, err := r.readProof(ctx, f.Name)
		if err != nil {
			continue
		}
		out[p.BackupID] = append(out[p.BackupID], p)
	}
	for id := range out {
		sort.Slice(out[id], func(i, j int) bool { return out[id][i].At.Before(out[id][j].At) })
	}
	return out, nil
}

func (r *Repository) readProof(ctx context.Context, name string) (Proof, error) {
	var p Proof
	_, err := r.getRecord(ctx, name, &p)
	return p, err
}

// LastSuccess returns the newest successful proof among ps, and whether
// there is one.
func LastSuccess(ps []Proof) (Proof, bool) {
	for i := len(ps) - 1; i >= 0; i-- {
		if ps[i].OK {
			return ps[i], true
		}
	}
	return Proof{}, false
}
