package guard

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/local"
)

// echoUpstream is a server for any method: it answers each message with
// the message upper-cased, sends the caller's authorization back as header
// "x-auth" and trailer "x-done", and fails a message "fail" with NotFound.
func echoUpstream(_ any, ss grpc.ServerStream) error {
	md, _ := metadata.FromIncomingContext(ss.Context())
	if err := ss.SendHeader(metadata.Pairs("x-auth", firstOf(md.Get("authorization")))); err != nil {
		return err
	}
	ss.SetTrailer(metadata.Pairs("x-done", "yes"))
	for {
		var f frame
		err := ss.RecvMsg(&f)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if string(f.data) == "fail" {
			return status.Error(codes.NotFound, "nope")
		}
		if err := ss.SendMsg(&frame{data: bytes.ToUpper(f.data)}); err != nil {
			return err
		}
	}
}

func firstOf(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

// serve runs srv on a loopback port and returns its address.
func serve(t testing.TB, srv *grpc.Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(srv.Stop)
	return ln.Addr().String()
}

func dialRaw(t testing.TB, addr string) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func testRepo(t testing.TB) *repo.Repository {
	t.Helper()
	s, err := local.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	r, err := repo.Init(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// fakeGuard puts a guard in front of echoUpstream and returns a client
// connection to the guard.
func fakeGuard(t *testing.T) *grpc.ClientConn {
	t.Helper()
	up := serve(t, grpc.NewServer(grpc.ForceServerCodec(rawCodec{}), grpc.UnknownServiceHandler(echoUpstream)))
	g, err := New(Config{Upstream: dialRaw(t, up), Repo: testRepo(t)})
	if err != nil {
		t.Fatal(err)
	}
	return dialRaw(t, serve(t, g.Server()))
}

// TestForwardStream proves that a bidirectional stream goes through the
// guard undecoded, in order, with the caller's metadata and the server's
// header and trailer.
func TestForwardStream(t *testing.T) {
	conn := fakeGuard(t)
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "dXNlcjpwdw==")
	cs, err := conn.NewStream(ctx, &grpc.StreamDesc{ClientStreams: true, ServerStreams: true}, "/any.Service/Chat", grpc.ForceCodec(rawCodec{}))
	if err != nil {
		t.Fatal(err)
	}
	msgs := []string{"a", "bc", string([]byte{0, 1, 2, 'x'})}
	for _, m := range msgs {
		if err := cs.SendMsg(&frame{data: []byte(m)}); err != nil {
			t.Fatal(err)
		}
	}
	cs.CloseSend()
	for _, m := range msgs {
		var f frame
		if err := cs.RecvMsg(&f); err != nil {
			t.Fatal(err)
		}
		if want := bytes.ToUpper([]byte(m)); !bytes.Equal(f.data, want) {
			t.Errorf("got %q, want %q", f.data, want)
		}
	}
	if err := cs.RecvMsg(&frame{}); !errors.Is(err, io.EOF) {
		t.Fatalf("end of stream: got %v, want io.EOF", err)
	}
	hdr, _ := cs.Header()
	if got := firstOf(hdr.Get("x-auth")); got != "dXNlcjpwdw==" {
		t.Errorf("authorization seen by the server: got %q", got)
	}
	if got := firstOf(cs.Trailer().Get("x-done")); got != "yes" {
		t.Errorf("trailer x-done: got %q, want yes", got)
	}
}

// TestForwardError proves that a server's error status reaches the caller
// unchanged.
func TestForwardError(t *testing.T) {
	conn := fakeGuard(t)
	var out frame
	err := conn.Invoke(context.Background(), "/any.Service/Unary", &frame{data: []byte("fail")}, &out, grpc.ForceCodec(rawCodec{}))
	if status.Code(err) != codes.NotFound || status.Convert(err).Message() != "nope" {
		t.Fatalf("got %v, want NotFound nope", err)
	}
	if err := conn.Invoke(context.Background(), "/any.Service/Unary", &frame{data: []byte("ok")}, &out, grpc.ForceCodec(rawCodec{})); err != nil || string(out.data) != "OK" {
		t.Fatalf("unary: got %q, %v", out.data, err)
	}
}

// TestForwardUnaryMilvusMethod proves that a Milvus method the protocol
// declares unary (served by forwardUnary) reaches the server with the
// caller's metadata and answers the server's response, header, trailer
// and error status unchanged.
func TestForwardUnaryMilvusMethod(t *testing.T) {
	method := methodPrefix + "GetVersion"
	if !unaryMethods[method] || unaryMethods[methodPrefix+"NoSuchMethod"] {
		t.Fatalf("unary method table: GetVersion %v, NoSuchMethod %v", unaryMethods[method], unaryMethods[methodPrefix+"NoSuchMethod"])
	}
	conn := fakeGuard(t)
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "dXNlcjpwdw==")
	var hdr, trl metadata.MD
	var out frame
	if err := conn.Invoke(ctx, method, &frame{data: []byte("version?")}, &out, grpc.ForceCodec(rawCodec{}), grpc.Header(&hdr), grpc.Trailer(&trl)); err != nil {
		t.Fatal(err)
	}
	if string(out.data) != "VERSION?" {
		t.Errorf("response: got %q, want VERSION?", out.data)
	}
	if got := firstOf(hdr.Get("x-auth")); got != "dXNlcjpwdw==" {
		t.Errorf("authorization seen by the server: got %q", got)
	}
	if got := firstOf(trl.Get("x-done")); got != "yes" {
		t.Errorf("trailer x-done: got %q, want yes", got)
	}
	trl = nil
	err := conn.Invoke(ctx, method, &frame{data: []byte("fail")}, &out, grpc.ForceCodec(rawCodec{}), grpc.Trailer(&trl))
	if status.Code(err) != codes.NotFound || status.Convert(err).Message() != "nope" {
		t.Fatalf("error: got %v, want NotFound nope", err)
	}
	if got := firstOf(trl.Get("x-done")); got != "yes" {
		t.Errorf("trailer of a failed call: got %q, want yes", got)
	}
}

// quiet is a logger that discards.
func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// TestRefuseDropDatabase proves that a refused drop never reaches the
// server (the echo server would answer the request's bytes upper-cased).
func TestRefuseDropDatabase(t *testing.T) {
	conn := fakeGuard(t)
	req, _ := proto.Marshal(&milvuspb.DropDatabaseRequest{DbName: "sales"})
	var out frame
	if err := conn.Invoke(context.Background(), methodPrefix+"DropDatabase", &frame{data: req}, &out, grpc.ForceCodec(rawCodec{})); err != nil {
		t.Fatal(err)
	}
	var st commonpb.Status
	if err := proto.Unmarshal(out.data, &st); err != nil {
		t.Fatalf("answer is no Status: %v", err)
	}
	if st.GetErrorCode() != commonpb.ErrorCode_PermissionDenied || !strings.Contains(st.GetReason(), "--database-policy") {
		t.Errorf("got %v, want PermissionDenied naming --database-policy", &st)
	}
}
