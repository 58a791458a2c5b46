package pitr

import (
	"fmt"
	"time"

	"github.com/milvault/milvault/capture"
	"github.com/milvault/milvault/errkind"
)

// span is one name a collection had, over the timestamps (From, To].
type span struct {
	Database, Name string
	From, To       uint64
}

func (s span) ref() string { return s.Database + "." + s.Name }

func (s span) holds(ts uint64) bool { return ts > s.From && ts <= s.To }

// lineage is the collection that carried a name at a time, followed back
// through the captured schema and namespace changes: the names it had
// (newest first) and when it was created.
type lineage struct {
	Spans []span
	// Born is when this collection was created (or when the name was
	// freed before an unrecorded creation); 0 when that is older than
	// the log. Backups older than Born hold an earlier collection.
	Born uint64
	// Created is the CreateCollection record of this collection, when the
	// guard captured it: a restore can start from it instead of a backup.
	Created *capture.Record
	// Floor is the time of the last change that freed the name before
	// the collection was created (0: none known): a write to the name
	// after it belongs to this collection, even one acknowledged between
	// the creation and its record's timestamp.
	Floor uint64
	// Notes are events a person should hear about (a move to the trash).
	Notes []string
}

// DroppedError reports a restore to a time when the collection had been
// dropped.
type DroppedError struct {
	Collection string
	At         uint64 // the time asked for
	DroppedAt  uint64 // a timestamp taken right after the drop
	Method     string // DropCollection or DropDatabase
}

func (e *DroppedError) Error() string {
	return fmt.Sprintf("%s did not exist at %s: it was dropped (%s) at %s; the last time it can be restored to is just before that: --at-ts %d",
		e.Collection, wallText(e.At), e.Method, wallText(e.DroppedAt), e.DroppedAt-1)
}

// Kind classifies the error for exit codes.
func (*DroppedError) Kind() errkind.Kind { return errkind.NotFound }

// RenamedError reports a restore of a name that had been given up by a
// rename before the time asked for.
type RenamedError struct {
	Collection, To string
	At, RenamedAt  uint64
}

func (e *RenamedError) Error() string {
	return fmt.Sprintf("%s did not exist at %s: it was renamed to %s at %s; restore -c %s at that time (the writes made under both names are replayed), or choose a time up to --at-ts %d",
		e.Collection, wallText(e.At), e.To, wallText(e.RenamedAt), e.To, e.RenamedAt-1)
}

// Kind classifies the error for exit codes.
func (*RenamedError) Kind() errkind.Kind { return errkind.NotFound }

func wallText(ts uint64) string {
	return fmt.Sprintf("%s (ts %d)", capture.WallTime(ts).UTC().Format(time.RFC3339Nano), ts)
}

// resolve follows the collection named db.name at at back through hist,
// the DDL records of the log in timestamp order.
func resolve(hist []capture.Record, db, name string, at uint64) (*lineage, error) {
	l := &lineage{}
	cur := span{Database: db, Name: name, To: at}
	settled := false // an event showed the collection existed under cur
	for i := len(hist) - 1; i >= 0; i-- {
		r := hist[i]
		if r.TS > at {
			continue
		}
		if tdb, tname, ok := r.RenamedTo(); ok && tdb == cur.Database && tname == cur.Name {
			cur.From = r.TS
			l.Spans = append(l.Spans, cur)
			cur = span{Database: r.Database, Name: r.Collection, To: r.TS}
			settled = true
			continue
		}
		if r.Database != cur.Database || (r.Collection != cur.Name && r.Kind != capture.KindDropDatabase) {
			continue
		}
		done, err := l.step(r, &cur, settled, at)
		if done && err == nil && l.Created != nil {
			l.Floor = freed(hist[:i], cur)
		}
		if err != nil || done {
			return l, err
		}
	}
	l.Spans = append(l.Spans, cur)
	return l, nil
}

// step applies one record of the collection's current name, going back
// in time; done is true when the collection's start was found.
func (l *lineage) step(r capture.Record, cur *span, settled bool, at uint64) (bool, error) {
	switch r.Kind {
	case capture.KindCreateCollection:
		l.Created = &r
		l.born(r.TS, cur)
		return true, nil
	case capture.KindDropCollection, capture.KindDropDatabase:
		if !settled {
			return true, &DroppedError{Collection: cur.ref(), At: at, DroppedAt: r.TS, Method: r.Kind.String()}
		}
		l.born(r.TS, cur) // created again without the guard
		return true, nil
	case capture.KindRenameCollection:
		if !settled {
			tdb, tname, _ := r.RenamedTo()
			return true, &RenamedError{Collection: cur.ref(), To: tdb + "." + tname, At: at, RenamedAt: r.TS}
		}
		l.born(r.TS, cur)
		return true, nil
	case capture.KindTrashCollection:
		if !settled {
			_, tname, _ := r.RenamedTo()
			l.Notes = append(l.Notes, fmt.Sprintf("%s was moved to the guard's trash at %s as %s: the restore holds its rows as they were then (milvault trash restore gives back the collection itself)",
				cur.ref(), wallText(r.TS), tname))
		}
	}
	return false, nil
}

func (l *lineage) born(ts uint64, cur *span) {
	l.Born, l.Floor = ts, ts
	cur.From = ts
	l.Spans = append(l.Spans, *cur)
}

// freed returns the time of the newest record of hist that took the name
// of s away from an earlier collection (0 when none).
func freed(hist []capture.Record, s span) uint64 {
	for i := len(hist) - 1; i >= 0; i-- {
		r := hist[i]
		switch {
		case r.Kind == capture.KindDropDatabase && r.Database == s.Database,
			r.Database == s.Database && r.Collection == s.Name && (r.Kind == capture.KindDropCollection ||
				r.Kind == capture.KindTrashCollection || r.Kind == capture.KindRenameCollection):
			return r.TS
		}
	}
	return 0
}

// spanAt returns the name the collection had at ts.
func (l *lineage) spanAt(ts uint64) (span, bool) {
	for _, s := range l.Spans {
		if s.holds(ts) || (s.From == 0 && ts == 0) {
			return s, true
		}
	}
	return span{}, false
}

// holds reports whether a write of db.coll at ts was made to this
// collection. A DDL record's timestamp is taken just after Milvus
// acknowledged the change, so a write under a name may come a moment
// before the record that gave the collection that name: each name is
// matched from the start of the span before it.
func (l *lineage) holds(db, coll string, ts uint64) bool {
	for i, s := range l.Spans {
		lower := l.Floor
		if i+1 < len(l.Spans) {
			lower = l.Spans[i+1].From
		}
		if s.Database == db && s.Name == coll && ts > lower && ts <= s.To {
			return true
		}
	}
	return false
}
