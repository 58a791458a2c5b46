package guard

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"

	"github.com/milvault/milvault/capture"
	"github.com/milvault/milvault/milvus"
)

// fakeMilvus answers Insert, Upsert and Delete with a MutationResult whose
// timestamp is 1000 plus the request's size, and refuses the collection
// "refused"; it keeps the request bytes it received.
type fakeMilvus struct{ got [][]byte }

func (f *fakeMilvus) handle(_ any, ss grpc.ServerStream) error {
	var req frame
	if err := ss.RecvMsg(&req); err != nil {
		return err
	}
	f.got = append(f.got, req.data)
	_, coll, _ := requestNames(req.data)
	res := &milvuspb.MutationResult{Status: &commonpb.Status{}, Timestamp: 1000 + uint64(len(req.data)),
		IDs: &schemapb.IDs{IdField: &schemapb.IDs_IntId{IntId: &schemapb.LongArray{Data: []int64{7}}}}}
	if coll == "refused" {
		res = &milvuspb.MutationResult{Status: &commonpb.Status{ErrorCode: commonpb.ErrorCode_UnexpectedError, Code: 100, Reason: "no"}}
	}
	data, _ := proto.Marshal(res)
	return ss.SendMsg(&frame{data: data})
}

func TestCaptureForwardsBytesAndRecordsAnswers(t *testing.T) {
	fake := &fakeMilvus{}
	c, r, w := fakeCapturingGuard(t, fake.handle, Config{}, CaptureFailClosed, time.Hour)
	ctx := metadata.AppendToOutgoingContext(context.Background(), "dbname", "shop")
	ins := &milvuspb.InsertRequest{CollectionName: "docs", PartitionName: "p1", NumRows: 1, FieldsData: []*schemapb.FieldData{milvus.Int64Column("n", []int64{5})}}
	resp, err := c.Service().Insert(ctx, ins)
	if err != nil || resp.GetTimestamp() == 0 {
		t.Fatalf("insert through the guard: %v, %v", resp, err)
	}
	if _, err := c.Service().Delete(ctx, &milvuspb.DeleteRequest{CollectionName: "refused", Expr: "n in [5]"}); err != nil {
		t.Fatal(err)
	}
	sent, _ := proto.Marshal(ins)
	if len(fake.got) != 2 || !bytes.Equal(fake.got[0], sent) {
		t.Errorf("Milvus received %d requests, the first %x; want the insert's bytes unchanged %x", len(fake.got), fake.got[0], sent)
	}
	w.Close(context.Background())
	res, err := capture.Read(context.Background(), r, capture.Query{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Records) != 1 {
		t.Fatalf("%d records, want only the acknowledged insert (the refused delete is not a write)", len(res.Records))
	}
	rec := res.Records[0]
	var ids schemapb.IDs
	proto.Unmarshal(rec.IDs, &ids)
	if rec.Kind != capture.KindInsert || rec.Database != "shop" || rec.Collection != "docs" || rec.Partition != "p1" ||
		rec.TS != resp.GetTimestamp() || !bytes.Equal(rec.Request, sent) || len(ids.GetIntId().GetData()) != 1 {
		t.Errorf("record = %+v, want the insert into shop.docs/p1 at %d with its bytes and keys", rec, resp.GetTimestamp())
	}
}

func TestRequestNames(t *testing.T) {
	for _, m := range []proto.Message{
		&milvuspb.InsertRequest{Base: &commonpb.MsgBase{MsgID: 9}, DbName: "d", CollectionName: "c", PartitionName: "p", NumRows: 3},
		&milvuspb.UpsertRequest{DbName: "d", CollectionName: "c", PartitionName: "p", FieldsData: []*schemapb.FieldData{milvus.Int64Column("x", []int64{1})}},
		&milvuspb.DeleteRequest{DbName: "d", CollectionName: "c", PartitionName: "p", Expr: "x in [1]"},
	} {
		data, _ := proto.Marshal(m)
		if db, coll, part := requestNames(data); db != "d" || coll != "c" || part != "p" {
			t.Errorf("%T: got %q %q %q", m, db, coll, part)
		}
	}
	if db, coll, _ := requestNames([]byte{0xff, 0xff}); db != "" || coll != "" {
		t.Errorf("garbage: got %q %q", db, coll)
	}
}
