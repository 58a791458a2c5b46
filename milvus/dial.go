package milvus

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// maxMessageBytes is the largest gRPC message milvault sends or accepts
// (query batches are sized far below it).
const maxMessageBytes = 512 << 20

// The metadata keys Milvus reads from every call.
const (
	authorizationHeader = "authorization" // base64 of "user:password" or of an API key
	databaseHeader      = "dbname"        // the database of calls that name none
	identifierHeader    = "identifier"    // the id the Connect call assigned
)

// retryPolicy lets gRPC retry calls the server refused for being
// unavailable or overloaded, with backoff, as Milvus clients do. Connect,
// the first call, is not retried, so that a server that cannot be reached
// or a TLS handshake that fails is reported at once with its cause.
const retryPolicy = `{"methodConfig": [{
	"name": [{"service": "milvus.proto.milvus.MilvusService"}],
	"retryPolicy": {"maxAttempts": 5, "initialBackoff": "0.1s", "maxBackoff": "3s",
		"backoffMultiplier": 3, "retryableStatusCodes": ["UNAVAILABLE", "RESOURCE_EXHAUSTED"]}
}, {
	"name": [{"service": "milvus.proto.milvus.MilvusService", "method": "Connect"}]
}]}`

// headers adds Milvus's metadata to every call on a connection.
type headers struct {
	fixed      []string     // key, value pairs known when dialling
	identifier atomic.Int64 // 0 until the server assigned one
}

// newHeaders returns the headers for a token and database ("" for none).
func newHeaders(token, database string) *headers {
	h := &headers{}
	if token != "" {
		h.fixed = append(h.fixed, authorizationHeader, authorization(token))
	}
	if database != "" {
		h.fixed = append(h.fixed, databaseHeader, database)
	}
	return h
}

// authorization encodes a token ("user:password" or an API key) as the
// server expects it in the authorization header.
func authorization(token string) string {
	return base64.StdEncoding.EncodeToString([]byte(token))
}

func (h *headers) outgoing(ctx context.Context) context.Context {
	kv := h.fixed
	if id := h.identifier.Load(); id != 0 {
		kv = append(kv[:len(kv):len(kv)], identifierHeader, strconv.FormatInt(id, 10))
	}
	if len(kv) == 0 {
		return ctx
	}
	return metadata.AppendToOutgoingContext(ctx, kv...)
}

func (h *headers) unary(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	return invoker(h.outgoing(ctx), method, req, reply, cc, opts...)
}

// dial creates the gRPC connection; it does not contact the server yet.
func dial(addr Address, cfg Config, h *headers) (*grpc.ClientConn, error) {
	return grpc.NewClient(addr.HostPort(),
		grpc.WithTransportCredentials(transportCredentials(addr, cfg.TLS)),
		grpc.WithChainUnaryInterceptor(h.unary, explainDenied),
		grpc.WithDefaultServiceConfig(retryPolicy),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMessageBytes), grpc.MaxCallSendMsgSize(maxMessageBytes)),
		// Pings only while calls are open: they detect a server that died
		// under a long call, and idle connections never anger a server
		// whose ping policy is stricter than Milvus's.
		grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: 30 * time.Second, Timeout: 10 * time.Second}),
	)
}

func transportCredentials(addr Address, conf *tls.Config) credentials.TransportCredentials {
	switch {
	case conf != nil:
		return credentials.NewTLS(conf.Clone())
	case addr.TLS:
		return credentials.NewTLS(&tls.Config{MinVersion: tls.VersionTLS12})
	default:
		return insecure.NewCredentials()
	}
}

// introduce makes the Connect call, which registers the client with
// Milvus 2.3 and later; the identifier it returns goes on later calls.
// Servers without the call are fine: they need no introduction.
func introduce(ctx context.Context, svc milvuspb.MilvusServiceClient, token string, h *headers) error {
	host, _ := os.Hostname()
	user, _, ok := strings.Cut(token, ":")
	if !ok {
		user = "" // an API key names no user, and must not be sent in the clear
	}
	resp, err := svc.Connect(ctx, &milvuspb.ConnectRequest{ClientInfo: &commonpb.ClientInfo{
		SdkType: "milvault", SdkVersion: "1", LocalTime: time.Now().String(), User: user, Host: host,
	}})
	if status.Code(err) == codes.Unimplemented {
		return nil
	}
	if err := check(resp, err); err != nil {
		return err
	}
	h.identifier.Store(resp.GetIdentifier())
	return nil
}
