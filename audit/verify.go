package audit

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/milvault/milvault/errkind"
	"github.com/milvault/milvault/repo"
)

// BrokenError names an entry of the trail that was removed, edited or
// moved.
type BrokenError struct {
	Entry   string // the entry's object name
	Problem string
}

func (e *BrokenError) Error() string { return "audit entry " + e.Entry + ": " + e.Problem }

// Kind classifies a broken trail as damaged.
func (*BrokenError) Kind() errkind.Kind { return errkind.Damaged }

// Report is the outcome of Verify.
type Report struct {
	Entries int      `json:"entries"`
	Heads   []Link   `json:"heads"`            // the newest entries: keep their digests outside the repository
	Forks   int      `json:"forks"`            // entries two racing writers linked to
	Broken  []string `json:"broken,omitempty"` // one line per problem
}

// OK reports whether the trail is intact.
func (r Report) OK() bool { return len(r.Broken) == 0 }

// Verify checks the whole trail of r: every entry decodes, its Hash
// matches its content, its name matches the one it records, each
// predecessor it links to exists with the recorded digest and is older,
// and only the oldest entries start the trail. Problems are listed in
// Report.Broken, each naming the entry, and returned as an error (the
// first *BrokenError, wrapped) too. Removing the newest entries cannot be
// told from a trail that ends earlier; compare Report.Heads with a digest
// kept elsewhere (or use object lock) for that.
func Verify(ctx context.Context, r *repo.Repository) (Report, error) {
	entries, rep, err := loadAll(ctx, r)
	if err != nil {
		return rep, err
	}
	byName := map[string]Entry{}
	for _, e := range entries {
		byName[e.stored] = e.Entry
	}
	linked := map[string]int{}
	var firstLinked time.Time
	for _, e := range entries {
		rep.Broken = append(rep.Broken, checkEntry(e, byName)...)
		for _, l := range e.Prev {
			linked[l.Name]++
		}
		if len(e.Prev) > 0 && (firstLinked.IsZero() || e.Time.Before(firstLinked)) {
			firstLinked = e.Time
		}
	}
	for _, e := range entries {
		if len(e.Prev) == 0 && !firstLinked.IsZero() && e.Time.After(firstLinked) {
			rep.Broken = append(rep.Broken, (&BrokenError{Entry: e.stored, Problem: "it starts the trail although older entries link to predecessors: the entries before it were removed, or it was edited"}).Error())
		}
		if linked[e.stored] > 1 {
			rep.Forks++
		}
		if linked[e.stored] == 0 {
			rep.Heads = append(rep.Heads, Link{Name: e.stored, Digest: e.Hash})
		}
	}
	return rep, brokenErr(rep)
}

// storedEntry is an entry with the name it was found under.
type storedEntry struct {
	Entry
	stored string
}

// loadAll reads every entry; undecodable ones are reported as broken.
func loadAll(ctx context.Context, r *repo.Repository) ([]storedEntry, Report, error) {
	var rep Report
	files, err := r.ListMetaFiles(ctx, Prefix)
	if err != nil {
		return nil, rep, err
	}
	var out []storedEntry
	files = entryFiles(files)
	for _, f := range files {
		e, err := load(ctx, r, f.Name)
		var be *BrokenError
		if errors.As(err, &be) {
			rep.Broken = append(rep.Broken, be.Error())
			continue
		}
		if err != nil {
			return nil, rep, err
		}
		out = append(out, storedEntry{Entry: e, stored: f.Name})
	}
	rep.Entries = len(files)
	return out, rep, nil
}

// checkEntry checks one entry's own hash, name and links.
func checkEntry(e storedEntry, byName map[string]Entry) []string {
	var out []string
	bad := func(format string, args ...any) {
		out = append(out, (&BrokenError{Entry: e.stored, Problem: fmt.Sprintf(format, args...)}).Error())
	}
	if got := digest(e.Entry); got != e.Hash {
		bad("its content does not match its hash: it was edited")
	}
	if e.Name != e.stored {
		bad("it holds entry %s: entries were swapped, moved or renamed", e.Name)
	}
	for _, l := range e.Prev {
		p, ok := byName[l.Name]
		switch {
		case !ok:
			bad("its predecessor %s is missing: it was removed", l.Name)
		case digest(p) != l.Digest:
			bad("its predecessor %s is not the entry it linked to (digest %s, recorded %s): %s was edited or replaced", l.Name, short(digest(p)), short(l.Digest), l.Name)
		case p.Time.After(e.Time):
			bad("its predecessor %s is newer than it: entries were reordered", l.Name)
		}
	}
	return out
}

func short(d string) string {
	if len(d) > 12 {
		return d[:12]
	}
	return d
}

// brokenErr turns the problems of rep into one error.
func brokenErr(rep Report) error {
	if rep.OK() {
		return nil
	}
	msg := rep.Broken[0]
	if len(rep.Broken) > 1 {
		msg += fmt.Sprintf(" (and %d more problems: %s)", len(rep.Broken)-1, strings.Join(rep.Broken[1:], "; "))
	}
	return errkind.New(errkind.Damaged, "audit trail of %d entries is broken: %s", rep.Entries, msg)
}
