package guard

import (
	"context"
	"errors"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/local"
)

// largeRequestBytes is about one Milvus insert of 1000 rows of 128-d
// float vectors.
const largeRequestBytes = 512 << 10

// smallReplyUpstream reads every request of a call and answers each with a
// few bytes, like Milvus answering an insert with its IDs' status.
func smallReplyUpstream(_ any, ss grpc.ServerStream) error {
	for {
		var f frame
		err := ss.RecvMsg(&f)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := ss.SendMsg(&frame{data: []byte("inserted 1000 rows")}); err != nil {
			return err
		}
	}
}

// benchServe serves srv on a loopback TCP port and returns its address.
func benchServe(b *testing.B, srv *grpc.Server) string {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go srv.Serve(ln)
	b.Cleanup(srv.Stop)
	return ln.Addr().String()
}

// benchClient dials addr as an application would: gRPC's default options.
func benchClient(b *testing.B, addr string) *grpc.ClientConn {
	b.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.ForceCodec(rawCodec{}), grpc.MaxCallSendMsgSize(maxMessageBytes)))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { conn.Close() })
	return conn
}

// benchGuard serves a guard in front of upstream and returns its address.
func benchGuard(b *testing.B, upstream string) string {
	b.Helper()
	s, err := local.New(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	r, err := repo.Init(context.Background(), s)
	if err != nil {
		b.Fatal(err)
	}
	conn, err := Dial(upstream, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { conn.Close() })
	g, err := New(Config{Upstream: conn, UpstreamAddress: upstream, Repo: r, Logger: quiet()})
	if err != nil {
		b.Fatal(err)
	}
	return benchServe(b, g.Server())
}

// BenchmarkProxyLargeUnary sends ~512 KB unary requests (an insert's size)
// that get a small reply, straight to a fake upstream and through the
// guard, both over loopback TCP. Compare the MB/s of the two.
func BenchmarkProxyLargeUnary(b *testing.B) { benchProxy(b, "Insert", largeRequestBytes) }

// BenchmarkProxySmallUnary does the same with 600-byte requests, about one
// top-10 search of a 128-d vector: the cost per call rather than per byte.
func BenchmarkProxySmallUnary(b *testing.B) { benchProxy(b, "Search", 600) }

// benchProxy times unary calls of method with requests of size bytes,
// direct and through the guard, with the process's CPU time per call.
func benchProxy(b *testing.B, method string, size int) {
	up := benchServe(b, grpc.NewServer(grpc.ForceServerCodec(rawCodec{}),
		grpc.UnknownServiceHandler(smallReplyUpstream), grpc.MaxRecvMsgSize(maxMessageBytes)))
	req := &frame{data: make([]byte, size)}
	for i := range req.data {
		req.data[i] = byte(i)
	}
	for _, path := range []struct {
		name string
		addr func() string
	}{
		{"direct", func() string { return up }},
		{"guard", func() string { return benchGuard(b, up) }},
	} {
		b.Run(path.name, func(b *testing.B) {
			conn := benchClient(b, path.addr())
			b.SetBytes(int64(size))
			b.ReportAllocs()
			b.ResetTimer()
			cpu := cpuTime()
			for i := 0; i < b.N; i++ {
				var out frame
				if err := conn.Invoke(context.Background(), methodPrefix+method, req, &out); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
		})
	}
}

// cpuTime is the process's user and system CPU time so far: on a shared
// machine it shows the guard's cost better than the wall time of a call.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
