package guard

import (
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
)

// unaryMethods holds the full names of the Milvus methods that take one
// request and answer one response, read from the protocol's own service
// descriptor (milvus-proto go-api). forwardUnary serves them in the
// caller's goroutine with one upstream Invoke; any other method (a
// streaming one, or one newer than the descriptor) goes through forward,
// which relays every message both ways with two goroutines.
var unaryMethods = func() map[string]bool {
	m := map[string]bool{}
	services := milvuspb.File_milvus_proto.Services()
	for i := range services.Len() {
		s := services.Get(i)
		methods := s.Methods()
		for j := range methods.Len() {
			md := methods.Get(j)
			if !md.IsStreamingClient() && !md.IsStreamingServer() {
				m["/"+string(s.FullName())+"/"+string(md.Name())] = true
			}
		}
	}
	return m
}()

// forwardUnary relays a unary call: it reads the caller's one request (or
// takes first, already read), makes the same call on Milvus with the
// caller's metadata, and answers Milvus's headers, response, trailers and
// status. It saves the stream, the two goroutines and their hand-offs of
// forward on every call; the bytes are the same.
func (g *Guard) forwardUnary(ss grpc.ServerStream, method string, first *frame) error {
	req := first
	if req == nil {
		req = &frame{}
		if err := ss.RecvMsg(req); err != nil {
			return err
		}
	}
	defer req.release() // held only when Invoke failed before taking it
	var header, trailer metadata.MD
	var resp frame
	err := g.cfg.Upstream.Invoke(outgoing(ss.Context()), method, req, &resp,
		grpc.ForceCodecV2(passCodec{}), grpc.Header(&header), grpc.Trailer(&trailer),
		grpc.MaxCallRecvMsgSize(maxMessageBytes), grpc.MaxCallSendMsgSize(maxMessageBytes))
	ss.SetTrailer(trailer)
	if err != nil {
		if len(header) > 0 {
			_ = ss.SendHeader(header) // best effort: the status below is what matters
		}
		return err
	}
	defer resp.release()
	if len(header) > 0 {
		if err := ss.SendHeader(header); err != nil {
			return err
		}
	}
	return ss.SendMsg(&resp)
}
