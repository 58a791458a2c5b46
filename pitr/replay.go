package pitr

import (
	"context"
	"fmt"
	"strings"

	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
	"google.golang.org/protobuf/proto"

	"github.com/milvault/milvault/capture"
	"github.com/milvault/milvault/restore"
)

// Run restores the collection of p as it was at p.At: the plan's backup,
// then its captured writes replayed into the restored collection.
func Run(ctx context.Context, deps Deps, p Params) (*Result, error) {
	pl, err := MakePlan(ctx, deps.Repo, p)
	if err != nil {
		return nil, err
	}
	return Execute(ctx, deps, p, pl)
}

// Execute carries out a plan MakePlan made for p.
func Execute(ctx context.Context, deps Deps, p Params, pl *Plan) (*Result, error) {
	if pl.Backup == nil {
		return executeFromCapture(ctx, deps, p, pl)
	}
	rp := RestoreParams(p, pl)
	rd := deps.Restore
	rd.Milvus, rd.Repo = deps.Milvus, deps.Repo
	rr, err := restore.Run(ctx, rd, pl.Backup, rp)
	if err != nil {
		return nil, err
	}
	if len(rr.Collections) != 1 {
		return nil, fmt.Errorf("restore of %s from backup %s restored %d collections", rp.Collections[0], pl.BackupID, len(rr.Collections))
	}
	res := &Result{Plan: *pl, Restore: rr, Database: rr.Collections[0].Database, Name: rr.Collections[0].Name}
	n, err := replayPlan(ctx, deps.Milvus, deps.Repo, pl, res.Database, res.Name)
	res.Replayed = n
	if err != nil {
		return res, fmt.Errorf("backup %s was restored into %s.%s, but replaying the captured writes stopped after %d of %d: %w", pl.BackupID, res.Database, res.Name, n, pl.Writes, err)
	}
	return res, nil
}

// RestoreParams returns the parameters of the restore of the plan's
// backup: p.Restore for the collection, under the name it had in the
// backup, restored under the name asked for when it was renamed since.
func RestoreParams(p Params, pl *Plan) restore.Params {
	db, coll := splitName(p.Collection)
	rp := p.Restore
	rp.Collections, rp.Partitions = []string{db + "." + coll}, nil
	if pl.BackupCollection != "" && pl.BackupCollection != db+"."+coll {
		rp.Collections = []string{pl.BackupCollection}
		if rp.Target == "" && rp.Suffix == "" {
			rp.Target = coll
		}
		if rp.Database == "" {
			rp.Database = db
		}
	}
	return rp
}

// Replay sends recs, in order, to collection db.coll of c: inserts as
// upserts (so that a write the backup already holds is not doubled),
// upserts and deletes as they were, each with its original partition, and
// partitions and indexes created and dropped as they were. Renames, moves
// to the trash and property changes need nothing (the target keeps its
// name). It
// returns how many were applied.
func Replay(ctx context.Context, c Milvus, recs []capture.Record, db, coll string) (int, error) {
	rp := &replayer{c: c, db: db, coll: coll}
	for _, rec := range recs {
		if err := rp.apply(ctx, rec); err != nil {
			return rp.n, err
		}
	}
	return rp.n, nil
}

func replayOne(ctx context.Context, c Milvus, rec capture.Record, db, coll string, pk *schemapb.FieldSchema) error {
	switch rec.Kind {
	case capture.KindCreatePartition:
		err := c.CreatePartition(ctx, db, coll, rec.Partition)
		if err != nil && strings.Contains(err.Error(), "already exist") {
			return nil // an unpinned backup may hold it already
		}
		return err
	case capture.KindDropPartition:
		return c.DropPartition(ctx, db, coll, rec.Partition)
	case capture.KindCreateIndex, capture.KindDropIndex:
		return replayIndex(ctx, c, rec, db, coll)
	}
	if rec.Kind.IsDDL() {
		return nil
	}
	if rec.Kind == capture.KindDelete {
		var req milvuspb.DeleteRequest
		if err := proto.Unmarshal(rec.Request, &req); err != nil {
			return fmt.Errorf("decode the captured request: %w", err)
		}
		req.Base, req.DbName, req.CollectionName = nil, db, coll
		_, err := c.DeleteMessage(ctx, &req)
		return err
	}
	req, err := upsertOf(rec, pk)
	if err != nil {
		return err
	}
	req.DbName, req.CollectionName = db, coll
	_, err = c.UpsertMessage(ctx, req)
	return err
}

// upsertOf turns a captured Insert or Upsert into an UpsertRequest. An
// Insert into an auto_id collection carries no keys: the ones Milvus
// generated (the record's IDs) are added as the key column.
func upsertOf(rec capture.Record, pk *schemapb.FieldSchema) (*milvuspb.UpsertRequest, error) {
	if rec.Kind == capture.KindUpsert {
		var req milvuspb.UpsertRequest
		if err := proto.Unmarshal(rec.Request, &req); err != nil {
			return nil, fmt.Errorf("decode the captured request: %w", err)
		}
		req.Base = nil
		return &req, nil
	}
	var ins milvuspb.InsertRequest
	if err := proto.Unmarshal(rec.Request, &ins); err != nil {
		return nil, fmt.Errorf("decode the captured request: %w", err)
	}
	req := &milvuspb.UpsertRequest{PartitionName: ins.GetPartitionName(), FieldsData: ins.GetFieldsData(), NumRows: ins.GetNumRows()}
	if pk == nil || hasField(req.FieldsData, pk.GetName()) {
		return req, nil
	}
	var ids schemapb.IDs
	if err := proto.Unmarshal(rec.IDs, &ids); err != nil || rec.IDs == nil {
		return nil, fmt.Errorf("the captured insert carries no primary keys and Milvus's answer had none (%v)", err)
	}
	req.FieldsData = append(req.FieldsData, keyColumn(pk, &ids))
	return req, nil
}

func hasField(fields []*schemapb.FieldData, name string) bool {
	for _, f := range fields {
		if f.GetFieldName() == name {
			return true
		}
	}
	return false
}

func keyColumn(pk *schemapb.FieldSchema, ids *schemapb.IDs) *schemapb.FieldData {
	sf := &schemapb.ScalarField{}
	if s := ids.GetStrId(); s != nil {
		sf.Data = &schemapb.ScalarField_StringData{StringData: s}
	} else {
		sf.Data = &schemapb.ScalarField_LongData{LongData: ids.GetIntId()}
	}
	return &schemapb.FieldData{Type: pk.GetDataType(), FieldName: pk.GetName(), FieldId: pk.GetFieldID(),
		Field: &schemapb.FieldData_Scalars{Scalars: sf}}
}

// replayIndex creates or drops an index as the captured request did.
func replayIndex(ctx context.Context, c Milvus, rec capture.Record, db, coll string) error {
	if rec.Kind == capture.KindDropIndex {
		var req milvuspb.DropIndexRequest
		if err := proto.Unmarshal(rec.Request, &req); err != nil {
			return fmt.Errorf("decode the captured request: %w", err)
		}
		return c.DropIndex(ctx, db, coll, req.GetFieldName(), req.GetIndexName())
	}
	var req milvuspb.CreateIndexRequest
	if err := proto.Unmarshal(rec.Request, &req); err != nil {
		return fmt.Errorf("decode the captured request: %w", err)
	}
	params := map[string]string{}
	for _, kv := range req.GetExtraParams() {
		params[kv.GetKey()] = kv.GetValue()
	}
	err := c.CreateIndex(ctx, db, coll, req.GetFieldName(), req.GetIndexName(), params)
	if err != nil && strings.Contains(err.Error(), "already exist") {
		return nil // an unpinned backup may hold it already
	}
	return err
}
