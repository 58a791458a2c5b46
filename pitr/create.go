package pitr

import (
	"context"
	"fmt"

	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
	"google.golang.org/protobuf/proto"

	"github.com/milvault/milvault/capture"
	"github.com/milvault/milvault/milvus"
	"github.com/milvault/milvault/restore"
)

// targetName returns where a restore from a captured creation goes: the
// collection's name and database unless p.Restore says otherwise.
func targetName(p Params) (db, name string) {
	db, name = splitName(p.Collection)
	if p.Restore.Database != "" {
		db = p.Restore.Database
	}
	switch {
	case p.Restore.Target != "":
		name = p.Restore.Target
	case p.Restore.Suffix != "":
		name += p.Restore.Suffix
	}
	return db, name
}

// createFromCapture creates the target collection from the captured
// CreateCollection request rec (schema, shards, consistency level,
// properties, partition-key partitions), as the application created it.
// An existing target is dropped only with p.Restore.DropExisting.
func createFromCapture(ctx context.Context, c Milvus, rec *capture.Record, p Params) (db, name string, err error) {
	var req milvuspb.CreateCollectionRequest
	var schema schemapb.CollectionSchema
	if err := proto.Unmarshal(rec.Request, &req); err != nil {
		return "", "", fmt.Errorf("decode the captured CreateCollection: %w", err)
	}
	if err := proto.Unmarshal(req.GetSchema(), &schema); err != nil {
		return "", "", fmt.Errorf("decode the schema of the captured CreateCollection: %w", err)
	}
	db, name = targetName(p)
	if err := makeRoom(ctx, c, db, name, p.Restore.DropExisting); err != nil {
		return db, name, err
	}
	schema.Name = name
	props := map[string]string{}
	for _, kv := range req.GetProperties() {
		props[kv.GetKey()] = kv.GetValue()
	}
	err = c.CreateCollection(ctx, milvus.CreateCollectionRequest{Database: db, Schema: &schema, ShardsNum: req.GetShardsNum(),
		ConsistencyLevel: req.GetConsistencyLevel(), Properties: props, NumPartitions: req.GetNumPartitions()})
	return db, name, err
}

// makeRoom checks that db.name can be created: its database is created
// when missing, and an existing collection is dropped when drop is set.
func makeRoom(ctx context.Context, c Milvus, db, name string, drop bool) error {
	if err := c.CreateDatabase(ctx, db); err != nil {
		return err
	}
	exists, err := c.HasCollection(ctx, db, name)
	switch {
	case err != nil:
		return err
	case exists && !drop:
		return &restore.ExistsError{Database: db, Collection: name, Differences: []string{"it is replaced by a collection created from the capture log"}}
	case exists:
		return c.DropCollection(ctx, db, name)
	}
	return nil
}

// executeFromCapture carries out a plan without a backup: the collection
// created from its captured request, then every captured change since
// replayed (partitions, indexes, writes), then loaded when asked.
func executeFromCapture(ctx context.Context, deps Deps, p Params, pl *Plan) (*Result, error) {
	db, name, err := createFromCapture(ctx, deps.Milvus, pl.Created, p)
	if err != nil {
		return nil, err
	}
	res := &Result{Plan: *pl, Database: db, Name: name}
	n, err := replayPlan(ctx, deps.Milvus, deps.Repo, pl, db, name)
	res.Replayed = n
	if err != nil {
		return res, fmt.Errorf("%s.%s was created from the capture log, but replaying the captured changes stopped after %d of %d: %w", db, name, n, pl.Writes, err)
	}
	if p.Restore.Load == restore.LoadAlways {
		if err := deps.Milvus.Load(ctx, db, name, nil); err != nil {
			return res, fmt.Errorf("%s.%s was restored from the capture log, but could not be loaded (it needs an index on every vector field): %w", db, name, err)
		}
	}
	return res, nil
}
