package guard

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/milvault/milvault/milvus"
	"github.com/milvault/milvault/repo"
)

// maxMessageBytes bounds one message each way, as large as Milvus allows
// (a search or an insert may be hundreds of megabytes).
const maxMessageBytes = 1 << 30

// windowBytes is the HTTP/2 flow-control window of each call and
// connection on both sides of the guard. gRPC's default starts at 64 KiB
// and grows with its bandwidth estimate; a fixed large window lets an
// insert of several megabytes cross both hops without waiting for window
// updates (measured in docs/benchmarks.md).
const windowBytes = 8 << 20

// ioBufferBytes is the size of the guard's socket read and write buffers
// on both hops (gRPC's default is 32 KiB): a 512 KiB insert then takes two
// writes instead of sixteen. Write buffers are shared (released between
// writes), so an idle connection does not keep one.
const ioBufferBytes = 256 << 10

// Config says how the guard works.
type Config struct {
	// Upstream is the connection to Milvus (the guard does not close it).
	Upstream *grpc.ClientConn
	// UpstreamAddress names the server in messages.
	UpstreamAddress string
	// Repo holds the trash index, the audit trail and backups.
	Repo *repo.Repository
	// Collections is what DropCollection does (default PolicyTrash).
	Collections Policy
	// Partitions and Databases say whether DropPartition and DropDatabase
	// are forwarded (PolicyAllow), refused (PolicyRefuse, the default) or
	// forwarded after a backup (PolicyBackup, see dropscope.go).
	Partitions, Databases Policy
	// Deletes holds back deletes that would remove a large share of a
	// collection (off when MaxShare is zero).
	Deletes DeleteLimit
	// Backup takes a backup of one collection for PolicyBackup (drops and
	// large deletes) and
	// returns its ID; it must be set for that policy.
	Backup func(ctx context.Context, db, coll string) (string, error)
	// BackupScope takes one backup of what a Scope names for the
	// PolicyBackup of partitions and databases, and returns its ID; it
	// must be set for those policies.
	BackupScope func(ctx context.Context, s Scope) (string, error)
	// Metrics receives the guard's counters; nil means none.
	Metrics *Metrics
	Logger  *slog.Logger // nil means slog.Default()
	Now     func() time.Time
	// TLS, when set, is the TLS configuration of the guard's own listener
	// (see ListenerTLS); nil means plain gRPC. The connection to Milvus
	// has its own (Dial).
	TLS *tls.Config
}

// Guard is the proxy. Create it with New, serve it with Server.
type Guard struct {
	cfg        Config
	intercepts map[string]interceptor
}

// interceptor handles one decoded request. It answers either a response
// message to send back, or forward=true to pass the request on unchanged.
type interceptor func(ctx context.Context, req []byte) (resp []byte, forward bool, err error)

// New checks cfg and returns a guard.
func New(cfg Config) (*Guard, error) {
	if cfg.Upstream == nil || cfg.Repo == nil {
		return nil, errors.New("guard: an upstream connection and a repository are required")
	}
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	g := &Guard{cfg: cfg}
	g.intercepts = map[string]interceptor{
		methodPrefix + "DropCollection": g.dropCollection,
		methodPrefix + "DropPartition":  g.dropPartition,
		methodPrefix + "DropDatabase":   g.dropDatabase,
	}
	if cfg.Deletes.MaxShare > 0 {
		g.intercepts[methodPrefix+"Delete"] = g.deleteRows
	}
	return g, nil
}

// methodPrefix starts the full name of every Milvus RPC.
const methodPrefix = "/milvus.proto.milvus.MilvusService/"

// Server returns a gRPC server that forwards every call to Milvus; the
// caller serves it on a listener and stops it.
func (g *Guard) Server(opts ...grpc.ServerOption) *grpc.Server {
	base := []grpc.ServerOption{
		grpc.ForceServerCodecV2(passCodec{}),
		grpc.UnknownServiceHandler(g.handle),
		grpc.MaxRecvMsgSize(maxMessageBytes),
		grpc.MaxSendMsgSize(maxMessageBytes),
		grpc.InitialWindowSize(windowBytes),
		grpc.InitialConnWindowSize(windowBytes),
		grpc.ReadBufferSize(ioBufferBytes),
		grpc.WriteBufferSize(ioBufferBytes),
		grpc.SharedWriteBuffer(true),
	}
	if g.cfg.TLS != nil {
		base = append(base, grpc.Creds(credentials.NewTLS(g.cfg.TLS)))
	}
	return grpc.NewServer(append(base, opts...)...)
}

// handle serves one call of any method.
func (g *Guard) handle(_ any, ss grpc.ServerStream) error {
	method, ok := grpc.MethodFromServerStream(ss)
	if !ok {
		return status.Error(codes.Internal, "guard: call without a method name")
	}
	start := time.Now()
	var err error
	if h := g.intercepts[method]; h != nil {
		err = g.intercept(ss, method, h)
	} else {
		err = g.relay(ss, method, nil)
	}
	g.cfg.Metrics.call(method, err, time.Since(start))
	return err
}

// intercept reads the one request of a unary call and lets h decide.
func (g *Guard) intercept(ss grpc.ServerStream, method string, h interceptor) error {
	var req frame
	if err := ss.RecvMsg(&req); err != nil {
		return err
	}
	resp, forward, err := h(outgoing(ss.Context()), req.bytes())
	if err != nil {
		return err
	}
	if forward {
		return g.relay(ss, method, &req)
	}
	return ss.SendMsg(&frame{data: resp})
}

// outgoing returns ctx with the caller's metadata (authentication,
// database) as the metadata of calls to Milvus.
func outgoing(ctx context.Context) context.Context {
	md, _ := metadata.FromIncomingContext(ctx)
	md = md.Copy()
	delete(md, ":authority")
	return metadata.NewOutgoingContext(ctx, md)
}

// relay forwards a call to Milvus by the fastest way its kind allows.
func (g *Guard) relay(ss grpc.ServerStream, method string, first *frame) error {
	if unaryMethods[method] {
		return g.forwardUnary(ss, method, first)
	}
	return g.forward(ss, method, first)
}

// forward relays a call to Milvus as it is: the caller's metadata, every
// message both ways, then the server's headers, trailers and status. first,
// when set, is a request already read from the caller.
func (g *Guard) forward(ss grpc.ServerStream, method string, first *frame) error {
	ctx, cancel := context.WithCancel(outgoing(ss.Context()))
	defer cancel()
	desc := &grpc.StreamDesc{ServerStreams: true, ClientStreams: true}
	cs, err := g.cfg.Upstream.NewStream(ctx, desc, method, grpc.ForceCodecV2(passCodec{}),
		grpc.MaxCallRecvMsgSize(maxMessageBytes), grpc.MaxCallSendMsgSize(maxMessageBytes))
	if err != nil {
		return err
	}
	up := make(chan error, 1)
	go func() { up <- requests(ss, cs, first) }()
	down := make(chan error, 1)
	go func() { down <- responses(cs, ss) }()
	for {
		select {
		case err := <-up:
			if err != nil {
				cancel() // the caller went away: end the upstream call
				return status.FromContextError(err).Err()
			}
			up = nil // all requests sent; wait for the answer
		case err := <-down:
			ss.SetTrailer(cs.Trailer())
			return err
		}
	}
}

// requests copies the caller's messages to Milvus and half-closes the call
// at the caller's end of stream.
func requests(ss grpc.ServerStream, cs grpc.ClientStream, first *frame) error {
	if first != nil {
		err := cs.SendMsg(first)
		first.release() // held only when SendMsg failed before taking it
		if err != nil {
			return sendError(err)
		}
	}
	for {
		var f frame
		err := ss.RecvMsg(&f)
		if errors.Is(err, io.EOF) {
			return cs.CloseSend()
		}
		if err != nil {
			return err
		}
		err = cs.SendMsg(&f)
		f.release()
		if err != nil {
			return sendError(err)
		}
	}
}

// sendError hides io.EOF from SendMsg: it means the server ended the call,
// whose status the response side reports.
func sendError(err error) error {
	if errors.Is(err, io.EOF) {
		return nil
	}
	return err
}

// responses copies Milvus's headers and messages to the caller; it returns
// nil at the end of the call or the call's status error.
func responses(cs grpc.ClientStream, ss grpc.ServerStream) error {
	if md, err := cs.Header(); err == nil && md != nil {
		if err := ss.SendHeader(md); err != nil {
			return err
		}
	}
	for {
		var f frame
		err := cs.RecvMsg(&f)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		err = ss.SendMsg(&f)
		f.release()
		if err != nil {
			return err
		}
	}
}

// milvusFor returns a client that acts with the caller's credentials (ctx
// carries them, see outgoing).
func (g *Guard) milvusFor() *milvus.Client {
	return milvus.Wrap(g.cfg.Upstream, g.cfg.UpstreamAddress)
}
