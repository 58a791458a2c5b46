package guard

import (
	"bytes"
	"context"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/mem"
)

// TestForwardLargeAndEmpty proves that messages held in grpc's buffers
// (passCodec) reach the server and come back byte for byte: a 3 MiB message
// spread over many HTTP/2 frames, and an empty one.
func TestForwardLargeAndEmpty(t *testing.T) {
	conn := fakeGuard(t)
	large := make([]byte, 3<<20+7)
	for i := range large {
		large[i] = byte(i*7 + i>>11)
	}
	for _, msg := range [][]byte{large, {}} {
		var out frame
		err := conn.Invoke(context.Background(), "/any.Service/Unary", &frame{data: msg}, &out,
			grpc.ForceCodec(rawCodec{}), grpc.MaxCallRecvMsgSize(maxMessageBytes), grpc.MaxCallSendMsgSize(maxMessageBytes))
		if err != nil {
			t.Fatalf("%d bytes: %v", len(msg), err)
		}
		if want := bytes.ToUpper(msg); !bytes.Equal(out.data, want) {
			t.Errorf("%d bytes: got %d bytes back, not the message upper-cased", len(msg), len(out.data))
		}
	}
}

// TestPassCodecFrames proves the codec's ownership rules: a received
// message is handed on once by Marshal, and bytes joins it.
func TestPassCodecFrames(t *testing.T) {
	var c passCodec
	var f frame
	if err := c.Unmarshal(mem2("ab", "cd"), &f); err != nil {
		t.Fatal(err)
	}
	if got := string(f.bytes()); got != "abcd" || f.buf != nil {
		t.Fatalf("bytes: got %q (buf %v), want abcd and buf released", got, f.buf)
	}
	if err := c.Unmarshal(mem2("x", "y"), &f); err != nil {
		t.Fatal(err)
	}
	out, err := c.Marshal(&f)
	if err != nil || string(out.Materialize()) != "xy" || f.buf != nil {
		t.Fatalf("marshal: got %q, %v (buf %v), want xy handed over", out.Materialize(), err, f.buf)
	}
	if _, err := c.Marshal("not a frame"); err == nil {
		t.Error("marshal of a string: no error")
	}
	if err := c.Unmarshal(nil, new(int)); err == nil {
		t.Error("unmarshal into an int: no error")
	}
}

// mem2 is a message in two grpc buffers.
func mem2(a, b string) mem.BufferSlice {
	return mem.BufferSlice{mem.SliceBuffer(a), mem.SliceBuffer(b)}
}
