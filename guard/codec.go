package guard

import "fmt"

// frame is one gRPC message as its encoded bytes.
type frame struct{ data []byte }

// rawCodec passes message bytes through unchanged. The guard forces it on
// its server and on the calls it forwards, so that no message is decoded
// unless a method is intercepted.
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

// Name is empty so that forwarded calls carry the content type
// "application/grpc", as Milvus SDKs send it: Milvus 2.3 tells gRPC from
// HTTP on its one port by that exact header (cmux), and would answer
// "application/grpc+proto" as HTTP/1.1.
func (rawCodec) Name() string { return "" }
