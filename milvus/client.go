// Package milvus is milvault's view of a Milvus server: connection, the
// metadata a backup must capture (schema, partitions, indexes, aliases, load
// state), a primary-key-ordered scan for reading data, and the calls a
// restore needs to rebuild a collection.
//
// It speaks the server's gRPC service (milvus-proto) directly, without the
// Milvus SDK, because backups must keep the server's schema exactly,
// including parameters the SDK's entity types do not model, and move columns
// without per-row conversion; and so that the package imports nothing that
// needs a replace directive in a program that uses milvault as a library.
package milvus

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/milvault/milvault/errkind"
)

// Config says how to reach a Milvus server.
type Config struct {
	// Address is host, host:port, or a URL: http://host[:port][/database],
	// https://host[:port][/database] (TLS). See ParseAddress for the ports.
	Address string
	// Token is "user:password" or an API key; empty means no authentication.
	Token string
	// TLS, when set, makes the connection use TLS with this configuration
	// (a private server CA in RootCAs, a client certificate for mutual TLS),
	// whatever the address's scheme. Without it https:// addresses use TLS
	// with the system's roots.
	TLS *tls.Config
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
	conn    *grpc.ClientConn
	svc     milvuspb.MilvusServiceClient
	addr    string
	version string
}

// Connect dials the server, introduces the client (the Connect call of
// Milvus 2.3 and later) and asks for its version, so that an unreachable or
// refusing server is reported at once.
func Connect(ctx context.Context, cfg Config) (*Client, error) {
	addr, err := ParseAddress(cfg.Address)
	if err != nil {
		return nil, err
	}
	timeout := cfg.DialTimeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	// gRPC retries a refused connection until the deadline; a plain TCP
	// dial first reports a server that is not there at once.
	if err := probeTCP(dctx, addr); err != nil {
		return nil, &UnreachableError{Address: cfg.Address, Err: simplifyDialError(err, timeout)}
	}
	h := newHeaders(cfg.Token, addr.Database)
	conn, err := dial(addr, cfg, h)
	if err != nil {
		return nil, &UnreachableError{Address: cfg.Address, Err: err}
	}
	c := &Client{conn: conn, svc: milvuspb.NewMilvusServiceClient(conn), addr: cfg.Address}
	if err := c.hello(dctx, cfg.Token, h); err != nil {
		conn.Close()
		err = simplifyDialError(err, timeout)
		if !isAuthError(err) {
			err = explainTLS(ctx, cfg.Address, addr.TLS || cfg.TLS != nil, cfg.TLS, err)
		}
		var te *TLSError
		if errors.As(err, &te) {
			return nil, te
		}
		return nil, connectError(cfg.Address, err)
	}
	return c, nil
}

// hello registers the client with the server and reads its version.
func (c *Client) hello(ctx context.Context, token string, h *headers) error {
	if err := introduce(ctx, c.svc, token, h); err != nil {
		return err
	}
	resp, err := c.svc.GetVersion(ctx, &milvuspb.GetVersionRequest{})
	if status.Code(err) == codes.Unimplemented {
		// Milvus Lite 2.x answers no version; Capabilities tells it apart.
		return nil
	}
	if err := check(resp, err); err != nil {
		return err
	}
	c.version = resp.GetVersion()
	return nil
}

func connectError(address string, err error) error {
	if isAuthError(err) {
		// Exit code 4, like an unreachable server: the operator fixes the connection settings.
		return errkind.New(errkind.Unreachable, "cannot log in: Milvus at %s refused the credentials: %w (check --token / MILVAULT_TOKEN)", address, err)
	}
	return &UnreachableError{Address: address, Err: err}
}

// probeTCP opens and closes a TCP connection to the address's host and port.
func probeTCP(ctx context.Context, addr Address) error {
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr.HostPort())
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
	switch status.Code(err) {
	case codes.Unauthenticated, codes.PermissionDenied:
		return true
	case codes.Unavailable, codes.DeadlineExceeded:
		return false // e.g. "authentication handshake failed": TLS, not the token
	}
	s := strings.ToLower(err.Error())
	return strings.Contains(s, "auth") || strings.Contains(s, "credential") || strings.Contains(s, "permission")
}

// Close releases the connection.
func (c *Client) Close() error { return c.conn.Close() }

// Address returns the address the client was configured with.
func (c *Client) Address() string { return c.addr }

// Version returns the server's version string, "" when the server does not
// tell (Milvus Lite 2.x).
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
