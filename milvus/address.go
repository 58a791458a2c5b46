package milvus

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// DefaultPort is the port of a Milvus address given without scheme or port.
const DefaultPort = 19530

// Address is a Milvus server address after parsing: where to dial, whether
// to use TLS, and the database a URL path names.
type Address struct {
	// Host is the host name or IP address (an IPv6 address without brackets).
	Host string
	// Port is the TCP port: as given, else 443 for https://, 80 for http://,
	// DefaultPort for a bare host.
	Port int
	// TLS is true for https:// addresses.
	TLS bool
	// Database is the URL path without slashes ("" when there is none).
	Database string
}

// AddressError reports an address ParseAddress cannot read: a usage error.
type AddressError struct {
	Address string
	Reason  string // what is wrong and what to give instead
}

func (e *AddressError) Error() string {
	return fmt.Sprintf("Milvus address %q: %s", e.Address, e.Reason)
}

// ParseAddress reads a Milvus address: host, host:port, [ipv6]:port, or a URL
// http://host[:port][/db] or https://host[:port][/db]. It is the one place
// that decides the default port, so dialling and every probe derived from
// the address agree.
func ParseAddress(s string) (Address, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Address{}, &AddressError{Address: s, Reason: "empty: give host:port or http(s)://host[:port]"}
	}
	raw, port := s, DefaultPort
	a := Address{}
	if scheme, _, ok := strings.Cut(s, "://"); ok {
		switch strings.ToLower(scheme) {
		case "https":
			a.TLS, port = true, 443
		case "http":
			port = 80
		default:
			return Address{}, &AddressError{Address: s, Reason: fmt.Sprintf("unsupported scheme %q (use host:port, http:// or https://)", scheme)}
		}
	} else {
		raw = "tcp://" + s
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Hostname() == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return Address{}, &AddressError{Address: s, Reason: "not host:port or http(s)://host[:port][/database]"}
	}
	if p := u.Port(); p != "" {
		if port, err = strconv.Atoi(p); err != nil || port < 1 || port > 65535 {
			return Address{}, &AddressError{Address: s, Reason: fmt.Sprintf("port %q is not a number from 1 to 65535", p)}
		}
	}
	a.Host, a.Port = u.Hostname(), port
	a.Database = strings.Trim(u.Path, "/")
	return a, nil
}

// HostPort returns host:port for dialling (IPv6 hosts in brackets).
func (a Address) HostPort() string {
	return net.JoinHostPort(a.Host, strconv.Itoa(a.Port))
}
