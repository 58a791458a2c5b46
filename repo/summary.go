package repo

import (
	"time"

	"github.com/milvault/milvault/manifest"
)

// BackupSummary is one committed backup as listings show it: the fields of
// `milvault list --json` and of the service's backup listing.
type BackupSummary struct {
	ID          string    `json:"id"`
	Name        string    `json:"name,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	Collections []string  `json:"collections"`
	Rows        int64     `json:"rows"`
	Bytes       int64     `json:"bytes"`
	Files       int       `json:"files"`
	Milvus      string    `json:"milvus_version"`
	// LastProven is the newest successful verification or drill, without
	// its report.
	LastProven *Proof `json:"last_proven,omitempty"`
	// Sealed says the backup's manifest is encrypted and was read without
	// the key: name, collections, rows and Milvus version are hidden.
	Sealed bool `json:"sealed,omitempty"`
}

// Summarize describes m for a listing; proofs are the backup's recorded
// proofs (Repository.Proofs()[m.ID]).
func Summarize(m *manifest.Manifest, proofs []Proof) BackupSummary {
	s := BackupSummary{ID: m.ID, Name: m.Name, CreatedAt: m.CreatedAt, Rows: m.TotalRows(), Bytes: m.TotalBytes(),
		Files: len(m.Files()), Milvus: m.Milvus.Version, Collections: []string{}, Sealed: m.Sealed}
	for _, c := range m.Collections {
		s.Collections = append(s.Collections, c.QualifiedName())
	}
	if p, ok := LastSuccess(proofs); ok {
		p.Report = nil
		s.LastProven = &p
	}
	return s
}
