// Package milvus is milvault's view of a Milvus server: connection, the
// metadata a backup must capture (schema, partitions, indexes, aliases, load
// state), a primary-key-ordered scan for reading data, and the calls a
// restore needs to rebuild a collection.
//
// It uses the official Go SDK (github.com/milvus-io/milvus/client/v2) for the
// connection (address parsing, TLS, authentication, database header) and its
// raw gRPC service (milvus-proto) for everything else, because backups must
// keep the server's schema exactly, including parameters the SDK's entity
// types do not model, and move columns without per-row conversion.
package milvus

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/milvus-io/milvus/client/v2/milvusclient"
	"google.golang.org/grpc"
)

// Config says how to reach a Milvus server.
type Config struct {
	// Address is host:port, or a URL (http://, https:// selects TLS).
	Address string
	// Token is "user:password" or an API key; empty means no authentication.
	Token string
	// DialTimeout bounds connecting; zero means 10 seconds.
	DialTimeout time.Duration
}

// UnreachableError reports a server that could not be contacted.
type UnreachableError struct {
	Address string
	Err     error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("cannot reach Milvus at %s: %v (is it running? check --milvus / MILVAULT_MILVUS)", e.Address, e.Err)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// Client is a connection to one Milvus server.
type Client struct {
	sdk     *milvusclient.Client
	svc     milvuspb.MilvusServiceClient
	addr    string
	version string
}

// maxMessageBytes is the largest gRPC message milvault accepts from the
// server (query batches are sized far below it).
const maxMessageBytes = 512 << 20

// Connect dials the server and asks for its version, so that an unreachable
// or refusing server is reported at once.
func Connect(ctx context.Context, cfg Config) (*Client, error) {
	timeout := cfg.DialTimeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	// The SDK retries a refused connection until its deadline; a plain TCP
	// dial first reports a server that is not there at once.
	if err := probeTCP(dctx, cfg.Address); err != nil {
		return nil, &UnreachableError{Address: cfg.Address, Err: simplifyDialError(err, timeout)}
	}
	sdk, err := milvusclient.New(dctx, &milvusclient.ClientConfig{
		Address: cfg.Address,
		APIKey:  cfg.Token,
		DialOptions: []grpc.DialOption{
			grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMessageBytes), grpc.MaxCallSendMsgSize(maxMessageBytes)),
		},
	})
	if err != nil {
		return nil, &UnreachableError{Address: cfg.Address, Err: simplifyDialError(err, timeout)}
	}
	c := &Client{sdk: sdk, svc: sdk.GetService(), addr: cfg.Address}
	resp, err := c.svc.GetVersion(dctx, &milvuspb.GetVersionRequest{})
	if err := check(resp, err); err != nil {
		sdk.Close(context.Background())
		if isAuthError(err) {
			return nil, fmt.Errorf("Milvus at %s refused the credentials: %w (check --token / MILVAULT_TOKEN)", cfg.Address, err)
		}
		return nil, &UnreachableError{Address: cfg.Address, Err: err}
	}
	c.version = resp.GetVersion()
	return c, nil
}

// probeTCP opens and closes a TCP connection to the address's host and port
// (default port 19530; URLs with a scheme are accepted).
func probeTCP(ctx context.Context, address string) error {
	hostport := address
	if _, rest, ok := strings.Cut(address, "://"); ok {
		hostport = rest
	}
	hostport, _, _ = strings.Cut(hostport, "/")
	if _, _, err := net.SplitHostPort(hostport); err != nil {
		hostport = net.JoinHostPort(hostport, "19530")
	}
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", hostport)
	if err != nil {
		return err
	}
	return conn.Close()
}

func simplifyDialError(err error, timeout time.Duration) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("no answer within %s", timeout)
	}
	return err
}

func isAuthError(err error) bool {
	s := strings.ToLower(err.Error())
	return strings.Contains(s, "auth") || strings.Contains(s, "credential") || strings.Contains(s, "permission")
}

// Close releases the connection.
func (c *Client) Close() error { return c.sdk.Close(context.Background()) }

// Address returns the address the client was configured with.
func (c *Client) Address() string { return c.addr }

// Version returns the server's version string.
func (c *Client) Version() string { return c.version }

// Service exposes the raw gRPC service for calls this package does not wrap.
func (c *Client) Service() milvuspb.MilvusServiceClient { return c.svc }

// statusResponse is any response that carries a status.
type statusResponse interface{ GetStatus() *commonpb.Status }

// check turns a transport error or a non-success status into an error.
func check(resp statusResponse, err error) error {
	if err != nil {
		return err
	}
	if resp == nil {
		return nil
	}
	return checkStatus(resp.GetStatus())
}

func checkStatus(st *commonpb.Status) error {
	if st == nil || (st.GetErrorCode() == commonpb.ErrorCode_Success && st.GetCode() == 0) {
		return nil
	}
	return &ServerError{Code: st.GetCode(), Reason: st.GetReason(), ErrorCode: st.GetErrorCode().String()}
}

// ServerError is a failure status returned by Milvus.
type ServerError struct {
	Code      int32
	ErrorCode string
	Reason    string
}

func (e *ServerError) Error() string {
	if e.Reason != "" {
		return e.Reason
	}
	return fmt.Sprintf("milvus error %s (code %d)", e.ErrorCode, e.Code)
}

// isNotFound reports a server answer that the named object does not exist.
func isNotFound(err error) bool {
	var se *ServerError
	if !errors.As(err, &se) {
		return false
	}
	r := strings.ToLower(se.Reason)
	return strings.Contains(r, "not found") || strings.Contains(r, "not exist") || strings.Contains(r, "doesn't exist") ||
		strings.HasPrefix(r, "no index") ||
		se.ErrorCode == commonpb.ErrorCode_CollectionNotExists.String() || se.ErrorCode == commonpb.ErrorCode_IndexNotExist.String()
}
