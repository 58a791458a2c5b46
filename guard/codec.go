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

// Name is the content subtype the codec answers for: "proto", the one
// Milvus clients send, so that the guard looks like Milvus on the wire.
func (rawCodec) Name() string { return "proto" }
