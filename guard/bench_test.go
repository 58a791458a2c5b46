package guard

import (
	"context"
	"errors"
	"io"
	"testing"

	"google.golang.org/grpc"
)

// sinkUpstream answers every request of a unary call with a short
// message, like Milvus answers an insert with a MutationResult.
func sinkUpstream(_ any, ss grpc.ServerStream) error {
	for {
		var f frame
		err := ss.RecvMsg(&f)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := ss.SendMsg(&frame{data: []byte("ok")}); err != nil {
			return err
		}
	}
}

// benchmarkInsert sends 512 KiB requests (1000 rows of 128-d floats, as
// internal/guardbench sends) to the in-process sink, directly or through a
// guard, and reports bytes per second of requests.
func benchmarkInsert(b *testing.B, viaGuard bool) {
	srv := grpc.NewServer(grpc.ForceServerCodec(rawCodec{}), grpc.UnknownServiceHandler(sinkUpstream),
		grpc.MaxRecvMsgSize(maxMessageBytes))
	addr := serve(b, srv)
	if viaGuard {
		up, err := Dial(addr, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { up.Close() })
		g, err := New(Config{Upstream: up, Repo: testRepo(b), Logger: quiet()})
		if err != nil {
			b.Fatal(err)
		}
		addr = serve(b, g.Server())
	}
	conn := dialRaw(b, addr)
	req := &frame{data: make([]byte, 512<<10)}
	b.SetBytes(int64(len(req.data)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		var out frame
		if err := conn.Invoke(context.Background(), methodPrefix+"Insert", req, &out, grpc.ForceCodec(rawCodec{}),
			grpc.MaxCallSendMsgSize(maxMessageBytes)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkInsertDirect(b *testing.B)       { benchmarkInsert(b, false) }
func BenchmarkInsertThroughGuard(b *testing.B) { benchmarkInsert(b, true) }
