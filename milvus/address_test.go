package milvus

import (
	"errors"
	"strings"
	"testing"
)

func TestParseAddress(t *testing.T) {
	cases := []struct {
		in   string
		want Address
	}{
		{"localhost", Address{Host: "localhost", Port: 19530}},
		{"localhost:19541", Address{Host: "localhost", Port: 19541}},
		{" 10.0.0.1:1 ", Address{Host: "10.0.0.1", Port: 1}},
		{"[::1]:19530", Address{Host: "::1", Port: 19530}},
		{"milvus:19530/sales", Address{Host: "milvus", Port: 19530, Database: "sales"}},
		{"http://milvus", Address{Host: "milvus", Port: 80}},
		{"http://milvus:19530", Address{Host: "milvus", Port: 19530}},
		{"https://m.example.com", Address{Host: "m.example.com", Port: 443, TLS: true}},
		{"https://m.example.com/", Address{Host: "m.example.com", Port: 443, TLS: true}},
		{"HTTPS://m.example.com:19530/db1", Address{Host: "m.example.com", Port: 19530, TLS: true, Database: "db1"}},
		{"https://[2001:db8::1]", Address{Host: "2001:db8::1", Port: 443, TLS: true}},
	}
	for _, c := range cases {
		got, err := ParseAddress(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseAddress(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
}

func TestParseAddressRejects(t *testing.T) {
	cases := map[string]string{
		"":                      "empty",
		"grpc://milvus:19530":   "unsupported scheme",
		"milvus:0":              "1 to 65535",
		"milvus:70000":          "1 to 65535",
		"milvus:port":           "not host:port",
		"https://":              "not host:port",
		"https://u:p@milvus":    "not host:port",
		"http://milvus?db=x":    "not host:port",
		"http://milvus:12a/xyz": "not host:port",
	}
	for in, want := range cases {
		_, err := ParseAddress(in)
		var ae *AddressError
		if !errors.As(err, &ae) || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseAddress(%q) error = %v, want an AddressError containing %q", in, err, want)
		}
	}
}

func TestHostPort(t *testing.T) {
	for in, want := range map[string]string{"milvus": "milvus:19530", "https://[::1]": "[::1]:443", "http://h:8080": "h:8080"} {
		a, err := ParseAddress(in)
		if err != nil || a.HostPort() != want {
			t.Errorf("ParseAddress(%q).HostPort() = %q, %v; want %q", in, a.HostPort(), err, want)
		}
	}
}
