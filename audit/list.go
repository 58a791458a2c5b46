package audit

import (
	"context"
	"time"

	"github.com/milvault/milvault/repo"
)

// List returns the entries of r's trail written at or after since (all of
// them when since is zero), oldest first. Entries that cannot be decoded
// are skipped; Verify reports them.
func List(ctx context.Context, r *repo.Repository, since time.Time) ([]Entry, error) {
	files, err := r.ListMetaFiles(ctx, Prefix)
	if err != nil {
		return nil, err
	}
	out := []Entry{}
	for _, f := range entryFiles(files) {
		if t := nameTime(f.Name); !since.IsZero() && !t.IsZero() && t.Before(since.Add(-time.Second)) {
			continue // named by its time: no need to read it
		}
		e, err := load(ctx, r, f.Name)
		if _, broken := err.(*BrokenError); broken {
			continue
		}
		if err != nil {
			return nil, err
		}
		if since.IsZero() || !e.Time.Before(since) {
			out = append(out, e)
		}
	}
	return out, nil
}

// nameTime is the time in an entry's object name (zero when it has none,
// so that such an entry is read).
func nameTime(name string) time.Time {
	base := name[len(Prefix):]
	if len(base) < 26 {
		return time.Time{}
	}
	t, err := time.Parse("20060102T150405.000000000Z", base[:26])
	if err != nil {
		return time.Time{}
	}
	return t
}
