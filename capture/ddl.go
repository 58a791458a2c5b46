package capture

import (
	"context"
	"fmt"
	"sort"

	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"google.golang.org/protobuf/proto"
)

// RenamedTo returns the database and name a KindRenameCollection or
// KindTrashCollection record moved its collection to; ok is false for
// other records and for a request that cannot be decoded.
func (r Record) RenamedTo() (db, name string, ok bool) {
	if r.Kind != KindRenameCollection && r.Kind != KindTrashCollection {
		return "", "", false
	}
	var req milvuspb.RenameCollectionRequest
	if err := proto.Unmarshal(r.Request, &req); err != nil || req.GetNewName() == "" {
		return "", "", false
	}
	db = req.GetNewDBName()
	if db == "" {
		db = r.Database
	}
	return db, req.GetNewName(), true
}

// Detail describes a DDL record in a few words, for `milvault log`.
func (r Record) Detail() string {
	switch r.Kind {
	case KindRenameCollection, KindTrashCollection:
		if db, name, ok := r.RenamedTo(); ok {
			return fmt.Sprintf("to %s.%s", db, name)
		}
	case KindCreatePartition, KindDropPartition:
		return "partition " + r.Partition
	case KindCreateCollection:
		var req milvuspb.CreateCollectionRequest
		if proto.Unmarshal(r.Request, &req) == nil {
			return fmt.Sprintf("schema of %d bytes", len(req.GetSchema()))
		}
	case KindCreateIndex:
		var req milvuspb.CreateIndexRequest
		if proto.Unmarshal(r.Request, &req) == nil {
			return fmt.Sprintf("index %s on %s", req.GetIndexName(), req.GetFieldName())
		}
	case KindDropIndex:
		var req milvuspb.DropIndexRequest
		if proto.Unmarshal(r.Request, &req) == nil {
			return fmt.Sprintf("index %s on %s", req.GetIndexName(), req.GetFieldName())
		}
	case KindAlterCollection:
		var req milvuspb.AlterCollectionRequest
		if proto.Unmarshal(r.Request, &req) == nil {
			var kv []string
			for _, p := range req.GetProperties() {
				kv = append(kv, p.GetKey()+"="+p.GetValue())
			}
			return fmt.Sprint(kv)
		}
	}
	return ""
}

// History returns every DDL record of the log with a timestamp up to to
// (0: all), in timestamp order, without the row writes: what a restore
// needs to follow a collection's names and incarnations.
func History(ctx context.Context, st Store, to uint64) ([]Record, error) {
	h := &history{to: to}
	if _, err := walk(ctx, st, Query{}, func(Gap) bool { return false }, h); err != nil {
		return nil, err
	}
	sort.SliceStable(h.recs, func(i, j int) bool { return h.recs[i].TS < h.recs[j].TS })
	return h.recs, nil
}

type history struct {
	to   uint64
	recs []Record
}

func (h *history) segment(_ Segment, recs []Record) {
	for _, r := range recs {
		if r.Kind.IsDDL() && (h.to == 0 || r.TS <= h.to) {
			h.recs = append(h.recs, r)
		}
	}
}
