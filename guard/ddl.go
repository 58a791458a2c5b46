package guard

import (
	"context"
	"fmt"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/milvault/milvault/capture"
)

// ddlMethods are the schema and namespace changes the guard captures, so
// that a point-in-time restore can follow a collection that was created,
// renamed, altered or dropped (package pitr).
var ddlMethods = map[string]capture.Kind{
	"CreateCollection": capture.KindCreateCollection,
	"DropCollection":   capture.KindDropCollection,
	"RenameCollection": capture.KindRenameCollection,
	"CreatePartition":  capture.KindCreatePartition,
	"DropPartition":    capture.KindDropPartition,
	"AlterCollection":  capture.KindAlterCollection,
	"DropDatabase":     capture.KindDropDatabase,
	"CreateIndex":      capture.KindCreateIndex,
	"DropIndex":        capture.KindDropIndex,
}

// captureDDL wraps the DDL methods (and the drop policies already there)
// so that every change Milvus acknowledged is appended to w.
func (g *Guard) captureDDL(w *capture.Writer, mode CaptureMode) {
	for name, kind := range ddlMethods {
		method := methodPrefix + name
		g.intercepts[method] = g.capturedDDL(method, kind, &sink{w: w, mode: mode}, g.intercepts[method])
	}
}

// sink is where, and under which policy, captured changes go.
type sink struct {
	w    *capture.Writer
	mode CaptureMode
}

// trashNoteKey carries a *trashNote through the context of a captured
// DropCollection, so that a drop the guard turns into a move to the trash
// is captured as such.
type trashNoteKey struct{}

// trashNote is filled by Guard.trash with the collection's trash name.
type trashNote struct{ db, coll, name string }

// capturedDDL lets inner (a drop policy) answer first; a call it answers
// itself is captured only when it moved a collection to the trash. A call
// forwarded to Milvus is captured when Milvus's Status says it succeeded.
func (g *Guard) capturedDDL(method string, kind capture.Kind, s *sink, inner interceptor) interceptor {
	return func(ctx context.Context, req []byte) ([]byte, bool, error) {
		if inner != nil {
			note := &trashNote{}
			resp, forward, err := inner(context.WithValue(ctx, trashNoteKey{}, note), req)
			if err != nil || !forward {
				if note.name != "" && err == nil {
					return g.appendDDL(ctx, s, trashRecord(note), resp)
				}
				return resp, forward, err
			}
		}
		out, err := g.invoke(ctx, method, req)
		if err != nil {
			return nil, false, err
		}
		var st commonpb.Status
		if proto.Unmarshal(out, &st) != nil || st.GetErrorCode() != commonpb.ErrorCode_Success || st.GetCode() != 0 {
			return out, false, nil // refused by Milvus: nothing changed
		}
		rec, err := ddlRecord(ctx, kind, req)
		if err == nil && kind == capture.KindRenameCollection {
			rec.Request, err = g.renameTarget(ctx, rec)
		}
		if err != nil {
			g.logger().Warn("could not decode an acknowledged schema change; it is not in the capture log", "method", method, "error", err.Error())
			return out, false, nil
		}
		return g.appendDDL(ctx, s, rec, out)
	}
}

// invoke sends one request to Milvus and relays Milvus's response
// headers and trailers to the caller (ctx is the handler's context, see
// outgoing, so grpc.SetHeader and grpc.SetTrailer reach the caller's
// stream).
func (g *Guard) invoke(ctx context.Context, method string, req []byte) ([]byte, error) {
	var out frame
	var header, trailer metadata.MD
	err := g.cfg.Upstream.Invoke(ctx, method, &frame{data: req}, &out, grpc.ForceCodec(rawCodec{}),
		grpc.MaxCallRecvMsgSize(maxMessageBytes), grpc.MaxCallSendMsgSize(maxMessageBytes),
		grpc.Header(&header), grpc.Trailer(&trailer))
	if len(header) > 0 {
		grpc.SetHeader(ctx, header)
	}
	if len(trailer) > 0 {
		grpc.SetTrailer(ctx, trailer)
	}
	return out.data, err
}

// appendDDL stamps rec with a timestamp from Milvus (its DDL answers carry
// none), appends it and answers resp; under fail-closed, only once the
// record is committed.
func (g *Guard) appendDDL(ctx context.Context, s *sink, rec capture.Record, resp []byte) ([]byte, bool, error) {
	ts, err := g.serverTS(ctx)
	if err != nil {
		g.logger().Warn("could not get a timestamp for a schema change; captured at the guard's clock", "method", rec.Kind.String(), "collection", rec.Collection, "error", err.Error())
		ts = capture.HybridTS(g.now())
	}
	rec.TS = ts
	if s.mode != CaptureFailClosed {
		s.w.Append(rec)
		return resp, false, nil
	}
	if err := s.w.AppendNow(rec).Wait(ctx); err != nil {
		if ctx.Err() != nil {
			return nil, false, status.FromContextError(ctx.Err()).Err()
		}
		g.cfg.Metrics.intercepted(rec.Kind.String(), "uncaptured")
		return failure(commonpb.ErrorCode_UnexpectedError, fmt.Sprintf("milvault guard (capture fail-closed): Milvus applied this %s of %s.%s (timestamp %d), but it could not be written to the capture log: %v; a point-in-time restore past this time may not follow it",
			rec.Kind, rec.Database, rec.Collection, rec.TS, err))
	}
	return resp, false, nil
}

// trashRecord is the capture record of a move to the trash.
func trashRecord(n *trashNote) capture.Record {
	req, _ := proto.Marshal(&milvuspb.RenameCollectionRequest{DbName: n.db, OldName: n.coll, NewName: n.name})
	return capture.Record{Kind: capture.KindTrashCollection, Database: n.db, Collection: n.coll, Request: req}
}

// noteTrash tells a capturing caller of Guard.trash where the collection
// went.
func noteTrash(ctx context.Context, db, coll, name string) {
	if n, ok := ctx.Value(trashNoteKey{}).(*trashNote); ok {
		*n = trashNote{db: db, coll: coll, name: name}
	}
}

// ddlRequests make an empty request message of each DDL kind.
var ddlRequests = map[capture.Kind]func() proto.Message{
	capture.KindCreateCollection: func() proto.Message { return &milvuspb.CreateCollectionRequest{} },
	capture.KindDropCollection:   func() proto.Message { return &milvuspb.DropCollectionRequest{} },
	capture.KindRenameCollection: func() proto.Message { return &milvuspb.RenameCollectionRequest{} },
	capture.KindCreatePartition:  func() proto.Message { return &milvuspb.CreatePartitionRequest{} },
	capture.KindDropPartition:    func() proto.Message { return &milvuspb.DropPartitionRequest{} },
	capture.KindAlterCollection:  func() proto.Message { return &milvuspb.AlterCollectionRequest{} },
	capture.KindDropDatabase:     func() proto.Message { return &milvuspb.DropDatabaseRequest{} },
	capture.KindCreateIndex:      func() proto.Message { return &milvuspb.CreateIndexRequest{} },
	capture.KindDropIndex:        func() proto.Message { return &milvuspb.DropIndexRequest{} },
}

// ddlRecord decodes the names of an acknowledged DDL request: its
// database, its collection (a rename's old name) and its partition.
func ddlRecord(ctx context.Context, kind capture.Kind, req []byte) (capture.Record, error) {
	rec := capture.Record{Kind: kind, Request: req}
	m := ddlRequests[kind]()
	err := proto.Unmarshal(req, m)
	var db string
	if v, ok := m.(interface{ GetDbName() string }); ok {
		db = v.GetDbName()
	}
	if v, ok := m.(interface{ GetCollectionName() string }); ok {
		rec.Collection = v.GetCollectionName()
	}
	if v, ok := m.(interface{ GetOldName() string }); ok {
		rec.Collection = v.GetOldName()
	}
	if v, ok := m.(interface{ GetPartitionName() string }); ok {
		rec.Partition = v.GetPartitionName()
	}
	rec.Database = database(ctx, db)
	return rec, err
}

// renameTarget returns the RenameCollectionRequest of an acknowledged
// rename with its new database made explicit. A request without one
// moves the collection into "default" on Milvus 2.3.5 and stays in its
// database on later servers: the server is asked which.
func (g *Guard) renameTarget(ctx context.Context, rec capture.Record) ([]byte, error) {
	var m milvuspb.RenameCollectionRequest
	if err := proto.Unmarshal(rec.Request, &m); err != nil || m.GetNewDBName() != "" {
		return rec.Request, err
	}
	m.NewDBName = "default"
	if rec.Database != "default" {
		if has, err := g.milvusFor().HasCollection(ctx, rec.Database, m.GetNewName()); err == nil && has {
			m.NewDBName = rec.Database
		}
	}
	return proto.Marshal(&m)
}
