package guard

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"

	"github.com/milvault/milvault/capture"
	"github.com/milvault/milvault/milvus"
	"github.com/milvault/milvault/repo"
)

// ddlFake answers every method with success (a Status, a MutationResult
// for writes, a timestamp for AllocTimestamp), except calls naming the
// collection "refused"; it sends a header and a trailer with every answer.
type ddlFake struct {
	mu sync.Mutex
	ts uint64
}

func (f *ddlFake) handle(_ any, ss grpc.ServerStream) error {
	method, _ := grpc.MethodFromServerStream(ss)
	var req frame
	if err := ss.RecvMsg(&req); err != nil {
		return err
	}
	ss.SetHeader(metadata.Pairs("x-up-header", "h"))
	ss.SetTrailer(metadata.Pairs("x-up-trailer", "t"))
	f.mu.Lock()
	f.ts += 1 << 18
	ts := f.ts
	f.mu.Unlock()
	st := &commonpb.Status{}
	if strings.Contains(string(req.data), "refused") {
		st = &commonpb.Status{ErrorCode: commonpb.ErrorCode_UnexpectedError, Code: 100, Reason: "no"}
	}
	var resp proto.Message = st
	switch strings.TrimPrefix(method, methodPrefix) {
	case "AllocTimestamp":
		resp = &milvuspb.AllocTimestampResponse{Status: &commonpb.Status{}, Timestamp: ts}
	case "Insert", "Upsert", "Delete":
		resp = &milvuspb.MutationResult{Status: st, Timestamp: ts}
	case "HasCollection":
		resp = &milvuspb.BoolResponse{Status: &commonpb.Status{}, Value: false}
	}
	data, _ := proto.Marshal(resp)
	return ss.SendMsg(&frame{data: data})
}

// fakeCapturingGuard puts a guard with cfg (Upstream and Repo filled in),
// capturing under mode, in front of a fake Milvus served by handler, and
// returns a client of the guard, the repository and the capture writer.
func fakeCapturingGuard(t *testing.T, handler grpc.StreamHandler, cfg Config, mode CaptureMode, interval time.Duration) (*milvus.Client, *repo.Repository, *capture.Writer) {
	t.Helper()
	up := serve(t, grpc.NewServer(grpc.ForceServerCodec(rawCodec{}), grpc.UnknownServiceHandler(handler)))
	cfg.Upstream, cfg.Repo = dialRaw(t, up), testRepo(t)
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	w, err := capture.Open(context.Background(), cfg.Repo, capture.Options{GuardID: "unit", CommitInterval: interval})
	if err != nil {
		t.Fatal(err)
	}
	g.Capture(w, mode)
	return milvus.Wrap(dialRaw(t, serve(t, g.Server())), "guard"), cfg.Repo, w
}

func TestCaptureDDL(t *testing.T) {
	c, r, w := fakeCapturingGuard(t, (&ddlFake{}).handle, Config{Collections: PolicyAllow, Partitions: PolicyAllow, Logger: quiet()}, CaptureFailClosed, time.Hour)
	svc := c.Service()
	ctx := metadata.AppendToOutgoingContext(context.Background(), "dbname", "shop")
	calls := []func() (*commonpb.Status, error){
		func() (*commonpb.Status, error) {
			return svc.CreateCollection(ctx, &milvuspb.CreateCollectionRequest{CollectionName: "docs", Schema: []byte("schema")})
		},
		func() (*commonpb.Status, error) {
			return svc.RenameCollection(ctx, &milvuspb.RenameCollectionRequest{OldName: "docs", NewName: "docs2"})
		},
		func() (*commonpb.Status, error) {
			return svc.CreatePartition(ctx, &milvuspb.CreatePartitionRequest{CollectionName: "docs2", PartitionName: "p1"})
		},
		func() (*commonpb.Status, error) {
			return svc.DropCollection(ctx, &milvuspb.DropCollectionRequest{CollectionName: "refused"})
		},
		func() (*commonpb.Status, error) {
			return svc.DropCollection(ctx, &milvuspb.DropCollectionRequest{CollectionName: "docs2"})
		},
	}
	for i, call := range calls {
		if _, err := call(); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	w.Close(context.Background())
	res, err := capture.Read(context.Background(), r, capture.Query{})
	if err != nil {
		t.Fatal(err)
	}
	want := []capture.Kind{capture.KindCreateCollection, capture.KindRenameCollection, capture.KindCreatePartition, capture.KindDropCollection}
	if len(res.Records) != len(want) {
		t.Fatalf("%d records %+v, want %v (the refused drop is not a change)", len(res.Records), res.Records, want)
	}
	for i, rec := range res.Records {
		if rec.Kind != want[i] || rec.Database != "shop" || rec.TS == 0 {
			t.Errorf("record %d = %v %s.%s at %d, want %v in shop with a server timestamp", i, rec.Kind, rec.Database, rec.Collection, rec.TS, want[i])
		}
	}
	// Milvus 2.3.5 moves a collection renamed without a new database into
	// "default" (the fake knows no shop.docs2).
	if db, name, ok := res.Records[1].RenamedTo(); !ok || db != "default" || name != "docs2" {
		t.Errorf("rename recorded to %s.%s (%v), want default.docs2", db, name, ok)
	}
	if res.Records[2].Partition != "p1" || res.Records[3].Collection != "docs2" {
		t.Errorf("records %+v", res.Records)
	}
}

// TestCapturedCallsRelayHeaders proves that a captured write and a
// captured DDL call reach the caller with Milvus's headers and trailers.
func TestCapturedCallsRelayHeaders(t *testing.T) {
	c, _, w := fakeCapturingGuard(t, (&ddlFake{}).handle, Config{Collections: PolicyAllow, Logger: quiet()}, CaptureFailOpen, 10*time.Millisecond)
	defer w.Close(context.Background())
	svc := c.Service()
	ctx := context.Background()
	for name, call := range map[string]func(opts ...grpc.CallOption) error{
		"Insert": func(opts ...grpc.CallOption) error {
			_, err := svc.Insert(ctx, &milvuspb.InsertRequest{CollectionName: "docs"}, opts...)
			return err
		},
		"DropCollection": func(opts ...grpc.CallOption) error {
			_, err := svc.DropCollection(ctx, &milvuspb.DropCollectionRequest{CollectionName: "docs"}, opts...)
			return err
		},
	} {
		var header, trailer metadata.MD
		if err := call(grpc.Header(&header), grpc.Trailer(&trailer)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if firstOf(header.Get("x-up-header")) != "h" || firstOf(trailer.Get("x-up-trailer")) != "t" {
			t.Errorf("%s: header %v, trailer %v; want Milvus's x-up-header and x-up-trailer", name, header, trailer)
		}
	}
}
