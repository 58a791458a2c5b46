package backup

import (
	"context"
	"fmt"

	"github.com/milvault/milvault/errkind"
)

// RowCountError says that a partition's scan read another number of rows
// than the server counts, while the count stayed the same before and after
// the scan: the backup would silently miss rows (or hold deleted ones), so
// it fails instead.
type RowCountError struct {
	Collection string // database.collection
	Partition  string
	Read       int64 // rows the scan returned
	Counted    int64 // count(*) before and after the scan
}

func (e *RowCountError) Error() string {
	return fmt.Sprintf("backup of %s partition %s read %d rows, but the server counts %d (before and after the scan, strong consistency); "+
		"the backup would not hold the collection's rows, so it is not kept: run it again; if the count stays higher, the collection holds "+
		"primary keys inserted more than once (count(*) counts every copy, a scan returns each key once): back it up with --skip-count-check",
		e.Collection, e.Partition, e.Read, e.Counted)
}

// Kind classifies the error as a failed check.
func (e *RowCountError) Kind() errkind.Kind { return errkind.CheckFailed }

// rowCheck compares the rows one partition's scan read with the server's
// count(*) of the partition, taken just before and just after the scan.
type rowCheck struct {
	counter        RowCounter // nil: no check
	db, coll, part string
	partitions     []string
	before         int64
}

// startRowCheck counts the partition's rows before its scan. It returns a
// check that does nothing when the check is off (Params.SkipCountCheck, a
// resumed partition, whose earlier rows were read by another run, a shard's
// key range, or a source that cannot count), and says so through deps.Progress unless the
// user turned it off.
func startRowCheck(ctx context.Context, deps Deps, p Params, c *captured, part string, resumed bool) *rowCheck {
	counter, ok := deps.Milvus.(RowCounter)
	if p.SkipCountCheck || !ok || p.after != nil || p.until != nil {
		// A shard of a sharded backup reads a key range, not the
		// partition: its rows are not checked.
		return &rowCheck{}
	}
	rc := &rowCheck{counter: counter, db: c.Database, coll: c.Name, part: part}
	if part != AllPartitions && (len(p.Partitions) > 0 || len(c.partitions) > 1) {
		// Count the partition, unless it is the whole collection (which
		// Milvus Lite, counting whole collections only, can check too).
		rc.partitions = []string{part}
	}
	if resumed {
		deps.Progress.Note(fmt.Sprintf("%s partition %s: resumed, so its rows are not cross-checked against count(*) (some were read by the interrupted run)", c.QualifiedName(), part))
		return &rowCheck{}
	}
	n, err := counter.CountRows(ctx, rc.db, rc.coll, rc.partitions)
	if err != nil {
		deps.Progress.Note(fmt.Sprintf("%s partition %s: rows not cross-checked, count(*) failed: %v", c.QualifiedName(), part, err))
		return &rowCheck{}
	}
	rc.before = n
	return rc
}

// finish counts the partition again after its scan read rows rows. Equal
// counts that differ from rows fail with a *RowCountError; counts that
// changed mean the collection was written to during the scan, so no exact
// check is possible: that is said through deps.Progress.
func (rc *rowCheck) finish(ctx context.Context, deps Deps, rows int64) error {
	if rc.counter == nil {
		return nil
	}
	name := rc.db + "." + rc.coll
	after, err := rc.counter.CountRows(ctx, rc.db, rc.coll, rc.partitions)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		deps.Progress.Note(fmt.Sprintf("%s partition %s: rows not cross-checked, count(*) failed: %v", name, rc.part, err))
		return nil
	}
	if after != rc.before {
		deps.Progress.Note(fmt.Sprintf("%s partition %s: written to during the backup (count(*) %d before the scan, %d after; %d rows read), so its rows could not be cross-checked",
			name, rc.part, rc.before, after, rows))
		return nil
	}
	if rows != after {
		return &RowCountError{Collection: name, Partition: rc.part, Read: rows, Counted: after}
	}
	return nil
}
