package guard

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/milvault/milvault/capture"
)

// CaptureMode is what happens to a write that cannot be captured.
type CaptureMode string

// Capture modes.
const (
	// CaptureFailClosed answers a write only once the segment holding it
	// is committed; a write that could not be captured is answered with an
	// error (Milvus has applied it: see docs/guard.md).
	CaptureFailClosed CaptureMode = "fail-closed"
	// CaptureFailOpen answers at once; a segment that could not be
	// committed becomes a gap of the log, raised in the metrics.
	CaptureFailOpen CaptureMode = "fail-open"
)

// ParseCaptureMode checks a mode's name.
func ParseCaptureMode(s string) (CaptureMode, error) {
	switch m := CaptureMode(s); m {
	case CaptureFailClosed, CaptureFailOpen:
		return m, nil
	}
	return "", fmt.Errorf("capture mode %q: want fail-closed, fail-open or off", s)
}

// captureMethods are the writes the guard captures.
var captureMethods = map[string]capture.Kind{
	"Insert": capture.KindInsert,
	"Upsert": capture.KindUpsert,
	"Delete": capture.KindDelete,
}

// Capture makes the guard append every Insert, Upsert and Delete that
// Milvus acknowledges to w, under mode, and every schema or namespace
// change (ddlMethods, including a drop moved to the trash). Call it once,
// before serving; the caller closes w after the server stopped. A Delete
// limit and the drop policies set in the guard's Config apply first, as
// before.
func (g *Guard) Capture(w *capture.Writer, mode CaptureMode) {
	for name, kind := range captureMethods {
		method := methodPrefix + name
		g.intercepts[method] = g.captured(method, kind, w, mode, g.intercepts[method])
	}
	g.captureDDL(w, mode)
}

// captured forwards a write's bytes unchanged, decodes only the answer
// and appends an acknowledged write to the log. inner, when set, is an
// interceptor that may answer instead (the delete limit).
func (g *Guard) captured(method string, kind capture.Kind, w *capture.Writer, mode CaptureMode, inner interceptor) interceptor {
	return func(ctx context.Context, req []byte) ([]byte, bool, error) {
		if inner != nil {
			if resp, forward, err := inner(ctx, req); err != nil || !forward {
				return resp, forward, err
			}
		}
		out, err := g.invoke(ctx, method, req)
		if err != nil {
			return nil, false, err
		}
		rec, ok := g.captureRecord(ctx, kind, req, out)
		if !ok {
			return out, false, nil // refused by Milvus: nothing happened
		}
		if mode == CaptureFailClosed {
			t := w.AppendNow(rec)
			if err := t.Wait(ctx); err != nil {
				if ctx.Err() != nil {
					return nil, false, status.FromContextError(ctx.Err()).Err() // the caller went away; the write is still committed
				}
				g.cfg.Metrics.intercepted(kind.String(), "uncaptured")
				return captureFailure(rec, err)
			}
			return out, false, nil
		}
		w.Append(rec)
		return out, false, nil
	}
}

// captureRecord builds the log record of an acknowledged write; ok is
// false when Milvus did not apply it.
func (g *Guard) captureRecord(ctx context.Context, kind capture.Kind, req, resp []byte) (capture.Record, bool) {
	var res milvuspb.MutationResult
	if err := proto.Unmarshal(resp, &res); err != nil || res.GetStatus().GetErrorCode() != commonpb.ErrorCode_Success || res.GetStatus().GetCode() != 0 {
		return capture.Record{}, false
	}
	db, coll, part := requestNames(req)
	rec := capture.Record{Kind: kind, TS: res.GetTimestamp(), Database: database(ctx, db), Collection: coll, Partition: part, Request: req}
	if rec.TS == 0 {
		// Milvus 2.3 answers a Delete without its timestamp: take a new one
		// from the server before the caller hears of the delete, so that it
		// is later than the delete and earlier than any write the caller
		// makes next.
		ts, err := g.serverTS(ctx)
		if err != nil {
			g.logger().Warn("could not get a timestamp for a write Milvus answered without one; captured at the guard's clock", "method", kind.String(), "collection", coll, "error", err.Error())
			ts = capture.HybridTS(g.now())
		}
		rec.TS = ts
	}
	if kind == capture.KindInsert && res.GetIDs() != nil {
		rec.IDs, _ = proto.Marshal(res.GetIDs())
	}
	return rec, true
}

// serverTS allocates a hybrid timestamp from Milvus's timestamp oracle.
func (g *Guard) serverTS(ctx context.Context) (uint64, error) {
	resp, err := g.milvusFor().Service().AllocTimestamp(ctx, &milvuspb.AllocTimestampRequest{})
	if err == nil && resp.GetStatus().GetErrorCode() != commonpb.ErrorCode_Success {
		err = fmt.Errorf("%s", resp.GetStatus().GetReason())
	}
	if err == nil && resp.GetTimestamp() == 0 {
		err = fmt.Errorf("the server returned timestamp 0")
	}
	return resp.GetTimestamp(), err
}

func (g *Guard) now() time.Time {
	if g.cfg.Now != nil {
		return g.cfg.Now()
	}
	return time.Now()
}

// requestNames reads db_name, collection_name and partition_name (fields
// 2, 3 and 4 of InsertRequest, UpsertRequest and DeleteRequest alike)
// without decoding the rows.
func requestNames(b []byte) (db, coll, part string) {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return
		}
		b = b[n:]
		if typ == protowire.BytesType && num >= 2 && num <= 4 {
			v, m := protowire.ConsumeBytes(b)
			if m < 0 {
				return
			}
			switch num {
			case 2:
				db = string(v)
			case 3:
				coll = string(v)
			case 4:
				part = string(v)
			}
			b = b[m:]
			continue
		}
		m := protowire.ConsumeFieldValue(num, typ, b)
		if m < 0 {
			return
		}
		b = b[m:]
	}
	return
}

// captureFailure answers a write Milvus applied but the guard could not
// capture under fail-closed.
func captureFailure(rec capture.Record, err error) ([]byte, bool, error) {
	retry := "retrying it is safe (an upsert or delete applies again to the same rows)"
	if rec.Kind == capture.KindInsert {
		retry = "retrying an insert adds its rows a second time unless the collection's primary keys make it an upsert"
	}
	reason := fmt.Sprintf("milvault guard (capture fail-closed): Milvus applied this %s into %s.%s (timestamp %d), but it could not be written to the capture log: %v; %s",
		strings.ToLower(rec.Kind.String()), rec.Database, rec.Collection, rec.TS, err, retry)
	data, merr := proto.Marshal(&milvuspb.MutationResult{Status: &commonpb.Status{ErrorCode: commonpb.ErrorCode_UnexpectedError, Reason: reason, Code: 65535}, Timestamp: rec.TS})
	return data, false, merr
}
