package guard

import (
	"fmt"

	"google.golang.org/grpc/mem"
)

// frame is one gRPC message as its encoded bytes: either data, or buf as
// gRPC received it (see passCodec).
type frame struct {
	data []byte
	buf  mem.BufferSlice
}

// bytes returns the message as one slice, joining and releasing buf when
// the frame holds one.
func (f *frame) bytes() []byte {
	if f.buf != nil {
		f.data = f.buf.Materialize()
		f.release()
	}
	return f.data
}

// release gives buf back to gRPC's buffer pool, when the frame still holds
// it (passCodec.Marshal hands it on to gRPC instead).
func (f *frame) release() {
	if f.buf != nil {
		f.buf.Free()
		f.buf = nil
	}
}

// passCodec passes messages through as gRPC's own buffers: a received
// message is kept without joining or copying it, and sent on from the same
// buffers. The guard forces it on its server and on the calls it forwards,
// so that no message is decoded unless a method is intercepted, and a
// large insert crosses the guard without a copy of its own.
type passCodec struct{}

// Marshal returns the message of a *frame; a received buf is handed to
// gRPC, which frees it once written.
func (passCodec) Marshal(v any) (mem.BufferSlice, error) {
	f, ok := v.(*frame)
	if !ok {
		return nil, fmt.Errorf("guard codec: cannot encode %T", v)
	}
	if f.buf != nil {
		out := f.buf
		f.buf = nil
		return out, nil
	}
	return mem.BufferSlice{mem.SliceBuffer(f.data)}, nil
}

// Unmarshal keeps a reference to data in a *frame (gRPC frees its own
// reference when Unmarshal returns).
func (passCodec) Unmarshal(data mem.BufferSlice, v any) error {
	f, ok := v.(*frame)
	if !ok {
		return fmt.Errorf("guard codec: cannot decode into %T", v)
	}
	f.release()
	data.Ref()
	f.buf, f.data = data, nil
	return nil
}

// Name is empty so that forwarded calls carry the content type
// "application/grpc", as Milvus SDKs send it: Milvus 2.3 tells gRPC from
// HTTP on its one port by that exact header (cmux), and would answer
// "application/grpc+proto" as HTTP/1.1.
func (passCodec) Name() string { return "" }

// rawCodec is passCodec for calls that read the message at once (the
// guard's own calls, and tests): it copies the message into data.
type rawCodec struct{}

// Marshal returns the bytes of a *frame.
func (rawCodec) Marshal(v any) ([]byte, error) {
	f, ok := v.(*frame)
	if !ok {
		return nil, fmt.Errorf("guard codec: cannot encode %T", v)
	}
	return f.bytes(), nil
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
