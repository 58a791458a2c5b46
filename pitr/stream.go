package pitr

import (
	"context"
	"fmt"

	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"

	"github.com/milvault/milvault/capture"
	"github.com/milvault/milvault/milvus"
)

// logQuery selects the writes a plan replays: those of the source
// collection after the backup's snapshot, up to At (of every collection
// when it had several names then: streamPlan keeps its own).
func logQuery(pl *Plan) capture.Query {
	q := capture.Query{From: pl.From, To: pl.At}
	if spans := pl.lineage.Spans; len(spans) == 1 {
		q.Database, q.Collection = spans[0].Database, spans[0].Name
	}
	return q
}

// streamPlan streams the plan's changes, in timestamp order, to fn: those
// made to the collection under any of its names in (From, At].
func streamPlan(ctx context.Context, st capture.Store, pl *Plan, fn func(capture.Record) error) (*capture.Result, error) {
	return capture.Stream(ctx, st, logQuery(pl), func(rec capture.Record) error {
		if !pl.lineage.holds(rec.Database, rec.Collection, rec.TS) {
			return nil
		}
		pl.Counts[rec.Kind.String()]++
		return fn(rec)
	})
}

// replayPlan streams the plan's changes into collection db.coll of c.
func replayPlan(ctx context.Context, c Milvus, st capture.Store, pl *Plan, db, coll string) (int, error) {
	rp := &replayer{c: c, db: db, coll: coll}
	counts := pl.Counts
	pl.Counts = map[string]int{} // counted again, not twice
	_, err := streamPlan(ctx, st, pl, func(rec capture.Record) error { return rp.apply(ctx, rec) })
	pl.Counts = counts
	return rp.n, err
}

// ReplayLog streams the writes of q from the capture log st, in timestamp
// order, into collection db.coll of c (as Replay does), without holding
// the log in memory. It returns how many were applied.
func ReplayLog(ctx context.Context, c Milvus, st capture.Store, q capture.Query, db, coll string) (int, error) {
	rp := &replayer{c: c, db: db, coll: coll}
	_, err := capture.Stream(ctx, st, q, func(rec capture.Record) error { return rp.apply(ctx, rec) })
	return rp.n, err
}

// replayer applies records one by one, describing the target collection
// before the first.
type replayer struct {
	c         Milvus
	db, coll  string
	pk        *schemapb.FieldSchema
	described bool
	n         int
}

func (rp *replayer) apply(ctx context.Context, rec capture.Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !rp.described {
		desc, err := rp.c.Describe(ctx, rp.db, rp.coll)
		if err != nil {
			return err
		}
		rp.pk, rp.described = milvus.PrimaryField(desc.GetSchema()), true
	}
	if err := replayOne(ctx, rp.c, rec, rp.db, rp.coll, rp.pk); err != nil {
		return fmt.Errorf("%s at timestamp %d: %w", rec.Kind, rec.TS, err)
	}
	rp.n++
	return nil
}
