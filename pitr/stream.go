package pitr

import (
	"context"
	"fmt"

	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"

	"github.com/milvault/milvault/capture"
	"github.com/milvault/milvault/milvus"
)

// logQuery selects the writes a plan replays: those of the source
// collection after the backup's snapshot, up to At.
func logQuery(p Params, pl *Plan) capture.Query {
	db, coll := splitName(p.Collection)
	return capture.Query{Database: db, Collection: coll, From: pl.From, To: pl.At}
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
