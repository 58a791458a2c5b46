package milvus

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

func TestAuthorization(t *testing.T) {
	cases := map[string]string{"root:Milvus": "cm9vdDpNaWx2dXM=", "api-key": "YXBpLWtleQ==", "u:p:w": "dTpwOnc="}
	for token, want := range cases {
		if got := authorization(token); got != want {
			t.Errorf("authorization(%q) = %q, want %q", token, got, want)
		}
	}
}

// fakeServer answers Connect, GetVersion and ShowCollections and records
// the metadata of each call. It stands in for Milvus only to see what the
// client sends; the integration tests talk to the real servers.
type fakeServer struct {
	milvuspb.UnimplementedMilvusServiceServer
	noConnect bool   // answer Connect with Unimplemented, as servers before 2.3 do
	token     string // required token, "" for none

	mu    sync.Mutex
	calls map[string]metadata.MD
}

func (s *fakeServer) record(ctx context.Context, call string) error {
	md, _ := metadata.FromIncomingContext(ctx)
	s.mu.Lock()
	s.calls[call] = md
	s.mu.Unlock()
	if s.token != "" && first(md, "authorization") != base64.StdEncoding.EncodeToString([]byte(s.token)) {
		return status.Error(codes.Unauthenticated, "auth check failure, please check username and password are correct")
	}
	return nil
}

func (s *fakeServer) Connect(ctx context.Context, req *milvuspb.ConnectRequest) (*milvuspb.ConnectResponse, error) {
	if s.noConnect {
		return nil, status.Error(codes.Unimplemented, "unknown method Connect")
	}
	if err := s.record(ctx, "Connect"); err != nil {
		return nil, err
	}
	return &milvuspb.ConnectResponse{Status: &commonpb.Status{}, Identifier: 4242}, nil
}

func (s *fakeServer) GetVersion(ctx context.Context, _ *milvuspb.GetVersionRequest) (*milvuspb.GetVersionResponse, error) {
	if err := s.record(ctx, "GetVersion"); err != nil {
		return nil, err
	}
	return &milvuspb.GetVersionResponse{Status: &commonpb.Status{}, Version: "v2.9.9-fake"}, nil
}

func (s *fakeServer) ShowCollections(ctx context.Context, _ *milvuspb.ShowCollectionsRequest) (*milvuspb.ShowCollectionsResponse, error) {
	if err := s.record(ctx, "ShowCollections"); err != nil {
		return nil, err
	}
	return &milvuspb.ShowCollectionsResponse{Status: &commonpb.Status{}}, nil
}

func (s *fakeServer) metadata(call string) metadata.MD {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[call]
}

func first(md metadata.MD, key string) string {
	if v := md.Get(key); len(v) > 0 {
		return v[0]
	}
	return ""
}

// serve starts s on a local port and returns its host:port.
func serve(t *testing.T, s *fakeServer, opts ...grpc.ServerOption) string {
	t.Helper()
	s.calls = map[string]metadata.MD{}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(opts...)
	milvuspb.RegisterMilvusServiceServer(srv, s)
	go srv.Serve(l)
	t.Cleanup(srv.Stop)
	return l.Addr().String()
}

func TestConnectSendsHeaders(t *testing.T) {
	s := &fakeServer{token: "alice:secret"}
	addr := serve(t, s)
	c, err := Connect(context.Background(), Config{Address: "http://" + addr + "/sales", Token: "alice:secret"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Version() != "v2.9.9-fake" {
		t.Errorf("Version() = %q, want the server's", c.Version())
	}
	if _, err := c.Service().ShowCollections(context.Background(), &milvuspb.ShowCollectionsRequest{}); err != nil {
		t.Fatal(err)
	}
	md := s.metadata("ShowCollections")
	want := map[string]string{"authorization": "YWxpY2U6c2VjcmV0", "dbname": "sales", "identifier": "4242"}
	for k, v := range want {
		if got := md.Get(k); len(got) != 1 || got[0] != v {
			t.Errorf("header %s = %q, want [%q]", k, got, v)
		}
	}
	if got := first(s.metadata("Connect"), "identifier"); got != "" {
		t.Errorf("Connect carried identifier %q before the server assigned one", got)
	}
}

func TestConnectWithoutConnectCall(t *testing.T) {
	s := &fakeServer{noConnect: true}
	c, err := Connect(context.Background(), Config{Address: serve(t, s)})
	if err != nil {
		t.Fatalf("server without Connect: %v", err)
	}
	defer c.Close()
	md := s.metadata("GetVersion")
	for _, k := range []string{"authorization", "dbname", "identifier"} {
		if v := md.Get(k); len(v) != 0 {
			t.Errorf("header %s = %q, want none", k, v)
		}
	}
}

func TestConnectRefusedCredentials(t *testing.T) {
	addr := serve(t, &fakeServer{token: "root:Milvus"})
	_, err := Connect(context.Background(), Config{Address: addr, Token: "root:wrong"})
	if err == nil || !strings.Contains(err.Error(), "refused the credentials") {
		t.Fatalf("Connect with a wrong token = %v, want a credentials error", err)
	}
}

func TestConnectTLS(t *testing.T) {
	cert, pool := selfSigned(t)
	s := &fakeServer{}
	addr := serve(t, s, grpc.Creds(credentials.NewServerTLSFromCert(&cert)))
	c, err := Connect(context.Background(), Config{Address: "https://" + addr, TLS: &tls.Config{RootCAs: pool}})
	if err != nil {
		t.Fatalf("TLS connect: %v", err)
	}
	c.Close()
	// The same server with the system roots: the certificate is not trusted.
	_, err = Connect(context.Background(), Config{Address: "https://" + addr, DialTimeout: 3 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("TLS connect without the CA = %v, want a certificate error", err)
	}
	// Plain text to a TLS server fails rather than hanging.
	_, err = Connect(context.Background(), Config{Address: addr, DialTimeout: 3 * time.Second})
	if err == nil {
		t.Error("plain-text connect to a TLS server succeeded")
	}
}

// selfSigned returns a certificate for 127.0.0.1 and a pool trusting it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "milvus-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}
