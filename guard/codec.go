package guard

import (
	"fmt"

	"google.golang.org/grpc/mem"
)

// frame is one gRPC message as its encoded bytes, for the calls the guard
// decodes or answers itself.
type frame struct{ data []byte }

// passFrame is one message the guard only passes on: the buffers gRPC read
// it into, handed to the other side's send without a copy. A passFrame is
// sent at most once; sending gives its buffers back to gRPC's pool.
type passFrame struct{ buf mem.BufferSlice }

// passCodec passes message bytes through unchanged. The guard forces it on
// its server and on the calls it forwards, so that no message is decoded
// unless a method is intercepted. It is a gRPC CodecV2: a passed-on
// message keeps gRPC's own (pooled) buffers from receipt to send, so a
// large insert is not copied on its way through the guard.
type passCodec struct{}

// Marshal returns the bytes of a *frame, or the buffers of a *passFrame
// (whose ownership goes to gRPC, which frees them once sent).
func (passCodec) Marshal(v any) (mem.BufferSlice, error) {
	switch f := v.(type) {
	case *passFrame:
		out := f.buf
		f.buf = nil
		return out, nil
	case *frame:
		return mem.BufferSlice{mem.SliceBuffer(f.data)}, nil
	}
	return nil, fmt.Errorf("guard codec: cannot encode %T", v)
}

// Unmarshal keeps data in a *passFrame (taking a reference, as gRPC frees
// its own when Unmarshal returns) or copies it into a *frame.
func (passCodec) Unmarshal(data mem.BufferSlice, v any) error {
	switch f := v.(type) {
	case *passFrame:
		data.Ref()
		f.buf = data
		return nil
	case *frame:
		f.data = data.Materialize()
		return nil
	}
	return fmt.Errorf("guard codec: cannot decode into %T", v)
}

// Name is empty so that forwarded calls carry the content type
// "application/grpc", as Milvus SDKs send it: Milvus 2.3 tells gRPC from
// HTTP on its one port by that exact header (cmux), and would answer
// "application/grpc+proto" as HTTP/1.1.
func (passCodec) Name() string { return "" }

// rawCodec is the []byte form of passCodec for calls of the guard's own
// that send or receive a *frame.
type rawCodec struct{}

// Marshal returns the bytes of a *frame.
func (rawCodec) Marshal(v any) ([]byte, error) {
	f, ok := v.(*frame)
	if !ok {
		return nil, fmt.Errorf("guard codec: cannot encode %T", v)
	}
	return f.data, nil
}

// Unmarshal keeps data in a *frame. gRPC may reuse data's buffer after
// Unmarshal returns, so it is copied.
func (rawCodec) Unmarshal(data []byte, v any) error {
	f, ok := v.(*frame)
	if !ok {
		return fmt.Errorf("guard codec: cannot decode into %T", v)
	}
	f.data = append(f.data[:0], data...)
	return nil
}

// Name is empty, as passCodec's.
func (rawCodec) Name() string { return "" }
