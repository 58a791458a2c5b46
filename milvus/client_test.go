package milvus

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"
)

func TestConnectRefusedFailsFast(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	start := time.Now()
	_, err = Connect(context.Background(), Config{Address: addr})
	var ue *UnreachableError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), addr) {
		t.Fatalf("Connect(%s) = %v, want UnreachableError naming the address", addr, err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("refused connection reported after %s, want at once", took)
	}
}
