// Package audit keeps the repository's audit trail: one small JSON object
// under audit/ for every command or service job that wrote to Milvus or to
// the repository (backup, restore, delete, prune, copy, unlock, a restore
// that dropped existing collections, an RBAC restore). Each entry says
// when, what (operation and parameters, secrets redacted), who (OS user,
// host, and the API principal when it came through the service), the
// result, and the backups and collections affected.
//
// Entries are append-only: every entry is a new object whose name is its
// time and a random suffix (audit/20261130T140233.123456789Z-1a2b3c4d.json),
// so two processes never write the same object and nothing is ever
// rewritten, on any store. They are hash-chained: each entry carries the
// SHA-256 digest of itself (Hash) and the names and digests of its
// predecessors (Prev), the trail's heads when it was written. Two writers
// racing may both link to the same head; the trail then forks, and the
// next entry links to both heads and joins it again, so no write ever needs
// a retry or a compare-and-swap the stores do not offer. Verify walks the
// links and names the entry that was removed, edited or moved.
//
// Entries go through the Repository's file methods (WriteMetaFile), so they
// get the repository's object-lock retention and any encryption it applies.
// Verifications and drills are not audited: they write only proofs (a
// record of their own) and create scratch collections that they drop
// again; see docs/audit.md.
package audit

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/user"
	"sort"
	"strings"
	"time"

	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/repo"
)

// Prefix is the folder of the audit trail in a repository.
const Prefix = "audit/"

// Operations that are audited.
const (
	OpBackup      = "backup"
	OpRestore     = "restore"
	OpDelete      = "delete"
	OpPrune       = "prune"
	OpCopy        = "copy"
	OpUnlock      = "unlock"
	OpRBACRestore = "rbac-restore"
	OpInit        = "init"
)

// Results of an operation.
const (
	ResultOK     = "ok"
	ResultFailed = "failed"
)

// Link names a predecessor of an entry and its digest.
type Link struct {
	Name   string `json:"name"`
	Digest string `json:"digest"`
}

// Entry is one record of the trail.
type Entry struct {
	// Name is the entry's object name under audit/ (set by Record).
	Name      string         `json:"name"`
	Time      time.Time      `json:"time"`
	Operation string         `json:"operation"`
	Params    map[string]any `json:"params,omitempty"`
	User      string         `json:"user,omitempty"`      // OS user (set by Record when empty)
	Host      string         `json:"host,omitempty"`      // host name (set by Record when empty)
	Principal string         `json:"principal,omitempty"` // API principal of a service job
	Result    string         `json:"result"`
	Error     string         `json:"error,omitempty"`
	BackupIDs []string       `json:"backup_ids,omitempty"`
	// Collections are the Milvus collections affected.
	Collections []string `json:"collections,omitempty"`
	Prev        []Link   `json:"prev,omitempty"`
	// Hash is the hex SHA-256 of the entry encoded with Hash empty.
	Hash string `json:"hash"`
}

// Outcome fills Result and Error from the error an operation returned.
func (e *Entry) Outcome(err error) {
	e.Result, e.Error = ResultOK, ""
	if err != nil {
		e.Result, e.Error = ResultFailed, err.Error()
	}
}

// digest returns the hex SHA-256 of e encoded with Hash empty.
func digest(e Entry) string {
	e.Hash = ""
	data, _ := json.Marshal(e) // an Entry always encodes (params come from redact)
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// headWindow is how many of the newest entries Record reads to find the
// heads of the trail. Entries link only to entries written before them,
// and racing writers' entries lie within moments of each other, so the
// heads are among the newest few.
const headWindow = 8

// Record appends e to the trail of r: it fills Name, Time (when zero),
// User, Host, Prev and Hash, redacts Params and writes one new object. It
// returns the entry as written. The time is never before a predecessor's
// (it is moved just after the newest one when this host's clock is behind
// the writer's of that entry), so that names sort in the chain's order.
func Record(ctx context.Context, r *repo.Repository, e Entry) (Entry, error) {
	prev, newest, err := heads(ctx, r)
	if err != nil {
		return e, err
	}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	if !e.Time.After(newest) {
		e.Time = newest.Add(time.Microsecond)
	}
	e.Time = e.Time.UTC()
	e.Name = Prefix + e.Time.Format("20060102T150405.000000000Z") + "-" + randomHex(4) + ".json"
	fillIdentity(&e)
	e.Params = Redact(e.Params)
	e.Prev = prev
	e.Hash = digest(e)
	data, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return e, fmt.Errorf("audit entry: %w", err)
	}
	if err := r.WriteMetaFile(ctx, e.Name, data); err != nil {
		return e, fmt.Errorf("write audit entry: %w", err)
	}
	return e, nil
}

// fillIdentity sets the OS user and host when the caller did not.
func fillIdentity(e *Entry) {
	if e.User == "" {
		if u, err := user.Current(); err == nil {
			e.User = u.Username
		} else {
			e.User = os.Getenv("USER")
		}
	}
	if e.Host == "" {
		e.Host, _ = os.Hostname()
	}
}

// heads returns links to the newest entries that no other of the newest
// entries links to: the trail's current heads (one, unless writers raced),
// and the time of the newest head.
func heads(ctx context.Context, r *repo.Repository) ([]Link, time.Time, error) {
	files, err := r.ListMetaFiles(ctx, Prefix)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("read audit trail: %w", err)
	}
	files = entryFiles(files)
	if len(files) > headWindow {
		files = files[len(files)-headWindow:]
	}
	var recent []Entry
	linked := map[string]bool{}
	for _, f := range files {
		e, err := load(ctx, r, f.Name)
		if _, broken := err.(*BrokenError); broken {
			continue // Verify reports it; the trail goes on
		}
		if err != nil {
			return nil, time.Time{}, err
		}
		recent = append(recent, e)
		for _, l := range e.Prev {
			linked[l.Name] = true
		}
	}
	var out []Link
	var newest time.Time
	for _, e := range recent {
		if !linked[e.Name] {
			out = append(out, Link{Name: e.Name, Digest: e.Hash})
			if e.Time.After(newest) {
				newest = e.Time
			}
		}
	}
	return out, newest, nil
}

// entryFiles keeps the entry objects (*.json) of a listing, sorted by name.
func entryFiles(files []repo.FileInfo) []repo.FileInfo {
	var out []repo.FileInfo
	for _, f := range files {
		if strings.HasSuffix(f.Name, ".json") {
			out = append(out, f)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// load reads and decodes the entry stored as name.
func load(ctx context.Context, r *repo.Repository, name string) (Entry, error) {
	data, err := r.ReadMetaFile(ctx, name)
	if err != nil {
		return Entry{}, fmt.Errorf("read audit entry: %w", err)
	}
	var e Entry
	if err := json.Unmarshal(data, &e); err != nil {
		return Entry{}, &BrokenError{Entry: name, Problem: "it is not a valid audit entry (edited or damaged): " + err.Error()}
	}
	return e, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Collections returns the qualified names (database.name) of the
// collections of m, for Entry.Collections.
func Collections(m *manifest.Manifest) []string {
	if m == nil {
		return nil
	}
	var out []string
	for _, c := range m.Collections {
		out = append(out, c.QualifiedName())
	}
	return out
}

// RBACRestore returns the entry the RBAC restore records (with Record,
// after Outcome) for restoring the users, roles and grants of backup id:
// params name what it was asked (never passwords: keys such as
// password_file are redacted anyway), collections are left empty.
func RBACRestore(backupID, principal string, params map[string]any) Entry {
	return Entry{Operation: OpRBACRestore, BackupIDs: []string{backupID}, Principal: principal, Params: params}
}
