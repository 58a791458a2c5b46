// Package testcert makes the certificates of the TLS tests with
// crypto/x509: a private CA, a server certificate for 127.0.0.1 and
// localhost signed by it, a client certificate for mutual TLS, and a second,
// unrelated CA whose trust must not be enough. scripts/test.sh writes them
// (go run ./internal/testcert/gencerts DIR) before it starts Milvus with TLS
// on; the tests read them from the same folder.
package testcert

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// The files Write creates in its folder.
const (
	CA         = "ca.pem"     // the CA that signs server.pem and client.pem
	ServerCert = "server.pem" // for 127.0.0.1, ::1 and localhost
	ServerKey  = "server.key"
	ClientCert = "client.pem" // client authentication, CN milvault-test-client
	ClientKey  = "client.key"
	OtherCA    = "other-ca.pem" // a CA that signed nothing the server shows
	// ServerName is a DNS name in the server certificate other than
	// localhost, so that tests can check --tls-server-name.
	ServerName = "milvus.test"
)

type issued struct {
	cert *x509.Certificate
	der  []byte
	key  *ecdsa.PrivateKey
}

// Write creates the folder dir (if needed) and the certificates in it,
// valid for a day.
func Write(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	ca, err := issue(&x509.Certificate{Subject: pkix.Name{CommonName: "milvault test CA"}, IsCA: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}, nil)
	if err != nil {
		return err
	}
	other, err := issue(&x509.Certificate{Subject: pkix.Name{CommonName: "unrelated CA"}, IsCA: true,
		KeyUsage: x509.KeyUsageCertSign}, nil)
	if err != nil {
		return err
	}
	server, err := issue(&x509.Certificate{Subject: pkix.Name{CommonName: "localhost"},
		DNSNames: []string{"localhost", ServerName}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}, ca)
	if err != nil {
		return err
	}
	client, err := issue(&x509.Certificate{Subject: pkix.Name{CommonName: "milvault-test-client"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}, ca)
	if err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		it   *issued
		key  bool
	}{{CA, ca, false}, {OtherCA, other, false}, {ServerCert, server, false}, {ServerKey, server, true}, {ClientCert, client, false}, {ClientKey, client, true}} {
		if err := writePEM(filepath.Join(dir, f.name), f.it, f.key); err != nil {
			return err
		}
	}
	return nil
}

// issue signs tmpl with parent's key (itself when parent is nil).
func issue(tmpl *x509.Certificate, parent *issued) (*issued, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return nil, err
	}
	tmpl.SerialNumber = serial
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour)
	tmpl.BasicConstraintsValid = true
	signer, signerKey := tmpl, key
	if parent != nil {
		signer, signerKey = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signerKey)
	if err != nil {
		return nil, fmt.Errorf("create certificate %s: %w", tmpl.Subject.CommonName, err)
	}
	cert, err := x509.ParseCertificate(der)
	return &issued{cert: cert, der: der, key: key}, err
}

func writePEM(path string, it *issued, key bool) error {
	block := &pem.Block{Type: "CERTIFICATE", Bytes: it.der}
	if key {
		der, err := x509.MarshalPKCS8PrivateKey(it.key)
		if err != nil {
			return err
		}
		block = &pem.Block{Type: "PRIVATE KEY", Bytes: der}
	}
	return os.WriteFile(path, pem.EncodeToMemory(block), 0o600)
}
