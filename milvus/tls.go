package milvus

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/milvault/milvault/errkind"
)

// TLSFiles names the files of a TLS connection to Milvus, as an operator
// gives them (--tls-ca, --tls-cert, --tls-key, --tls-server-name).
type TLSFiles struct {
	// CA is a PEM file of the certificate authorities that sign the
	// server's certificate; empty means the system's roots.
	CA string
	// Cert and Key are the PEM client certificate and its private key, for
	// servers that require mutual TLS (common.security.tlsMode: 2).
	Cert, Key string
	// ServerName is the name to verify the server's certificate against
	// when it differs from the address's host (an IP address, a tunnel).
	ServerName string
}

// Empty reports whether no TLS setting is given.
func (f TLSFiles) Empty() bool { return f == TLSFiles{} }

// TLSConfigError reports TLS settings that cannot be used: a usage error.
type TLSConfigError struct {
	Setting string // the flag, e.g. --tls-ca
	Reason  string
}

func (e *TLSConfigError) Error() string { return e.Setting + ": " + e.Reason }

// Kind classifies the error as a usage error.
func (e *TLSConfigError) Kind() errkind.Kind { return errkind.Usage }

// Config reads the files into a TLS configuration for Config.TLS. Empty
// settings give nil (the address's scheme decides).
func (f TLSFiles) Config() (*tls.Config, error) {
	if f.Empty() {
		return nil, nil
	}
	if (f.Cert == "") != (f.Key == "") {
		return nil, &TLSConfigError{Setting: "--tls-cert/--tls-key", Reason: "give both the client certificate and its key, or neither"}
	}
	conf := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: f.ServerName}
	if f.CA != "" {
		pool, err := readCAs(f.CA)
		if err != nil {
			return nil, err
		}
		conf.RootCAs = pool
	}
	if f.Cert != "" {
		cert, err := tls.LoadX509KeyPair(f.Cert, f.Key)
		if err != nil {
			return nil, &TLSConfigError{Setting: "--tls-cert/--tls-key", Reason: fmt.Sprintf("cannot load the client certificate: %v", err)}
		}
		conf.Certificates = []tls.Certificate{cert}
	}
	return conf, nil
}

func readCAs(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, &TLSConfigError{Setting: "--tls-ca", Reason: err.Error()}
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, &TLSConfigError{Setting: "--tls-ca", Reason: path + " holds no PEM certificate"}
	}
	return pool, nil
}

// TLSState is what a TLS handshake with a server showed.
type TLSState struct {
	// Offered is true when the server answered a TLS handshake at all.
	Offered bool `json:"offered"`
	// Version is the negotiated protocol ("TLS 1.3"), empty without TLS.
	Version string `json:"version,omitempty"`
	// Verified is true when the server's certificate chain was verified
	// against the configured CAs (or the system's roots) and name.
	Verified bool `json:"verified"`
	// Subject is the server certificate's subject.
	Subject string `json:"subject,omitempty"`
	// ClientCertRequested is true when the server asked for a client
	// certificate (mutual TLS).
	ClientCertRequested bool `json:"client_cert_requested"`
	// Problem explains a failed handshake or verification.
	Problem string `json:"problem,omitempty"`
}

// ProbeTLS makes a TLS handshake with the server at address and reports
// what it showed, whatever the address's scheme: the one source of truth
// for whether a server speaks TLS. conf may be nil (system roots). An error
// means the server could not be reached at all.
func ProbeTLS(ctx context.Context, address string, conf *tls.Config) (TLSState, error) {
	addr, err := ParseAddress(address)
	if err != nil {
		return TLSState{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	st, err := handshake(ctx, addr, conf, true)
	if err != nil || !st.Offered || st.Problem == "" {
		return st, err
	}
	// Learn what the server sent even when it is not trusted.
	unverified, err := handshake(ctx, addr, conf, false)
	if err == nil && unverified.Offered {
		unverified.Verified, unverified.Problem = false, st.Problem
		return unverified, nil
	}
	return st, nil
}

// handshake dials addr and makes one TLS handshake.
func handshake(ctx context.Context, addr Address, conf *tls.Config, verify bool) (TLSState, error) {
	raw, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr.HostPort())
	if err != nil {
		return TLSState{}, &UnreachableError{Address: addr.HostPort(), Err: err}
	}
	defer raw.Close()
	if d, ok := ctx.Deadline(); ok {
		raw.SetDeadline(d)
	}
	c := probeConfig(addr, conf, verify)
	st := TLSState{}
	c.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
		st.ClientCertRequested = true
		if conf != nil && len(conf.Certificates) > 0 {
			return &conf.Certificates[0], nil
		}
		return &tls.Certificate{}, nil
	}
	conn := tls.Client(raw, c)
	err = conn.HandshakeContext(ctx)
	cs := conn.ConnectionState()
	if cs.HandshakeComplete || len(cs.PeerCertificates) > 0 || verificationFailed(err) {
		st.Offered = true
	}
	if cs.HandshakeComplete {
		st.Version = tls.VersionName(cs.Version)
		st.Verified = verify
		if len(cs.PeerCertificates) > 0 {
			st.Subject = cs.PeerCertificates[0].Subject.String()
		}
	}
	if err != nil {
		st.Problem = err.Error()
	}
	return st, nil
}

func probeConfig(addr Address, conf *tls.Config, verify bool) *tls.Config {
	c := &tls.Config{MinVersion: tls.VersionTLS12}
	if conf != nil {
		c = conf.Clone()
	}
	if c.ServerName == "" {
		c.ServerName = addr.Host
	}
	c.Certificates = nil
	c.InsecureSkipVerify = !verify
	return c
}

// verificationFailed reports a handshake that failed on the server's
// certificate: the server does speak TLS.
func verificationFailed(err error) bool {
	var uae x509.UnknownAuthorityError
	var hne x509.HostnameError
	var cie x509.CertificateInvalidError
	var tve *tls.CertificateVerificationError
	return errors.As(err, &uae) || errors.As(err, &hne) || errors.As(err, &cie) || errors.As(err, &tve)
}

// TLSError reports a connection that failed because of TLS, with what to
// change: a plain-text client at a TLS server, a TLS client at a plain-text
// server, an untrusted certificate or a missing client certificate.
type TLSError struct {
	Address string
	Err     error
	Advice  string
}

func (e *TLSError) Error() string {
	return fmt.Sprintf("cannot connect to Milvus at %s: %v (%s)", e.Address, e.Err, e.Advice)
}

func (e *TLSError) Unwrap() error { return e.Err }

// Kind classifies the error like an unreachable server: the operator fixes
// the connection settings.
func (e *TLSError) Kind() errkind.Kind { return errkind.Unreachable }

// explainTLS returns a *TLSError for a failed connection when a TLS probe
// shows the cause, and err unchanged when TLS is not the cause.
func explainTLS(ctx context.Context, address string, useTLS bool, conf *tls.Config, err error) error {
	st, perr := ProbeTLS(ctx, address, conf)
	if perr != nil {
		return err
	}
	if advice := tlsAdvice(address, useTLS, conf, st); advice != "" {
		return &TLSError{Address: address, Err: err, Advice: advice}
	}
	return err
}

func tlsAdvice(address string, useTLS bool, conf *tls.Config, st TLSState) string {
	switch {
	case !useTLS && st.Offered:
		return fmt.Sprintf("the server requires TLS: connect with https://%s, and --tls-ca if its certificate is signed by a private CA", trimScheme(address))
	case useTLS && !st.Offered:
		return "the server does not speak TLS: drop https:// and the --tls-* settings, or enable TLS on the server"
	case useTLS && !st.Verified && st.Problem != "":
		return fmt.Sprintf("the server's certificate was not accepted: %s; give its CA with --tls-ca, or the name it was issued for with --tls-server-name", st.Problem)
	case useTLS && st.ClientCertRequested && (conf == nil || len(conf.Certificates) == 0):
		return "the server requires a client certificate, mutual TLS: give --tls-cert and --tls-key"
	}
	return ""
}

func trimScheme(address string) string {
	if _, rest, ok := strings.Cut(address, "://"); ok {
		return rest
	}
	return address
}
