package doctor

import (
	"fmt"
	"time"
)

// CollectionRef names a collection in a database.
type CollectionRef struct {
	Database string `json:"database"`
	Name     string `json:"name"`
}

// String renders r as database.name.
func (r CollectionRef) String() string {
	db := r.Database
	if db == "" {
		db = "default"
	}
	return db + "." + r.Name
}

// ProofInfo is one verification or drill of a backup.
type ProofInfo struct {
	Kind string
	OK   bool
	At   time.Time
}

// BackupInfo is one committed backup, as far as coverage is concerned.
type BackupInfo struct {
	ID          string
	Name        string
	CreatedAt   time.Time
	Collections []CollectionRef
	Proofs      []ProofInfo
}

// Coverage is the input of the backup coverage check.
type Coverage struct {
	Repository string
	// Live are the collections on the server; nil when the server was not
	// asked, in which case the collections found in backups are judged.
	Live         []CollectionRef
	Backups      []BackupInfo
	Now          time.Time
	RPO          time.Duration // newest backup must be younger
	VerifyWithin time.Duration // newest successful proof must be younger
	// Protection is what the repository's bucket does against deletion;
	// nil for a repository that is not in a bucket.
	Protection *RepoProtection
}

// CheckCoverage flags collections with no backup, a backup older than the
// RPO, or no successful verification or drill within VerifyWithin (check 5).
func CheckCoverage(cv Coverage) []Finding {
	var out []Finding
	for _, c := range cv.collections() {
		newest, verified, found := cv.latest(c)
		switch {
		case !found:
			out = append(out, cv.noBackup(c))
		case cv.Now.Sub(newest.CreatedAt) > cv.RPO:
			out = append(out, cv.staleBackup(c, newest))
		}
		if found && (verified.IsZero() || cv.Now.Sub(verified) > cv.VerifyWithin) {
			out = append(out, cv.unverified(c, verified))
		}
	}
	return out
}

// collections returns what to judge: the live ones, or those in backups.
func (cv Coverage) collections() []CollectionRef {
	if cv.Live != nil {
		return cv.Live
	}
	seen := map[CollectionRef]bool{}
	var out []CollectionRef
	for _, b := range cv.Backups {
		for _, c := range b.Collections {
			if !seen[norm(c)] {
				seen[norm(c)] = true
				out = append(out, norm(c))
			}
		}
	}
	return out
}

func norm(c CollectionRef) CollectionRef {
	if c.Database == "" {
		c.Database = "default"
	}
	return c
}

// latest returns the newest backup holding c and the time of the newest
// successful proof of any backup holding c.
func (cv Coverage) latest(c CollectionRef) (newest BackupInfo, verified time.Time, found bool) {
	for _, b := range cv.Backups {
		if !holds(b, c) {
			continue
		}
		if !found || b.CreatedAt.After(newest.CreatedAt) {
			newest, found = b, true
		}
		for _, p := range b.Proofs {
			if p.OK && p.At.After(verified) {
				verified = p.At
			}
		}
	}
	return newest, verified, found
}

func holds(b BackupInfo, c CollectionRef) bool {
	for _, bc := range b.Collections {
		if norm(bc) == norm(c) {
			return true
		}
	}
	return false
}

func (cv Coverage) noBackup(c CollectionRef) Finding {
	return Finding{Check: IDBackups, Severity: Critical, Title: "Collection " + c.String() + " has no backup",
		Evidence: []Evidence{{Where: Where{File: cv.Repository, Path: "backups"}, Value: "no committed backup contains " + c.String()}},
		Why:      "If the server, its etcd or its object store is lost, this collection cannot be restored.",
		Fix:      fmt.Sprintf("milvault backup --database %s --collection %s", c.Database, c.Name)}
}

func (cv Coverage) staleBackup(c CollectionRef, b BackupInfo) Finding {
	age := cv.Now.Sub(b.CreatedAt).Round(time.Minute)
	return Finding{Check: IDBackups, Severity: Warning,
		Title:    fmt.Sprintf("Newest backup of %s is %s old, beyond the RPO of %s", c, humanDuration(age), humanDuration(cv.RPO)),
		Evidence: []Evidence{{Where: Where{File: cv.Repository, Path: "backup " + b.ID}, Value: "created " + b.CreatedAt.UTC().Format(time.RFC3339)}},
		Why:      "Everything written since " + b.CreatedAt.UTC().Format(time.RFC3339) + " would be lost.",
		Fix:      fmt.Sprintf("milvault backup --database %s --collection %s   # and schedule it at least every %s", c.Database, c.Name, cv.RPO)}
}

func (cv Coverage) unverified(c CollectionRef, verified time.Time) Finding {
	value := "no successful verify or drill recorded"
	if !verified.IsZero() {
		value = "last successful proof " + verified.UTC().Format(time.RFC3339)
	}
	return Finding{Check: IDBackups, Severity: Warning,
		Title:    fmt.Sprintf("Backups of %s were not verified or drilled within %s", c, humanDuration(cv.VerifyWithin)),
		Evidence: []Evidence{{Where: Where{File: cv.Repository, Path: "proofs"}, Value: value}},
		Why:      "An untested backup may not restore: damaged files, a schema the target refuses, or a missing partition show up only when it is too late.",
		Fix:      "milvault verify <backup>   # or a restore drill into a scratch collection"}
}

// humanDuration renders whole days as "7d" and anything else as Go does.
func humanDuration(d time.Duration) string {
	const day = 24 * time.Hour
	if d >= day && d%day == 0 {
		return fmt.Sprintf("%dd", d/day)
	}
	return d.String()
}
