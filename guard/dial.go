package guard

import (
	"crypto/tls"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/milvault/milvault/milvus"
)

// Dial opens the connection to the Milvus the guard stands in front of.
// address is read like every Milvus address of milvault (milvus.ParseAddress);
// conf, when set, makes the connection use TLS with it. The connection
// carries no credentials of its own: each call carries its caller's.
func Dial(address string, conf *tls.Config) (*grpc.ClientConn, error) {
	addr, err := milvus.ParseAddress(address)
	if err != nil {
		return nil, err
	}
	creds := insecure.NewCredentials()
	switch {
	case conf != nil:
		creds = credentials.NewTLS(conf.Clone())
	case addr.TLS:
		creds = credentials.NewTLS(&tls.Config{MinVersion: tls.VersionTLS12})
	}
	return grpc.NewClient(addr.HostPort(), grpc.WithTransportCredentials(creds),
		grpc.WithInitialWindowSize(windowBytes), grpc.WithInitialConnWindowSize(windowBytes),
		grpc.WithReadBufferSize(ioBufferBytes), grpc.WithWriteBufferSize(ioBufferBytes), grpc.WithSharedWriteBuffer(true),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMessageBytes), grpc.MaxCallSendMsgSize(maxMessageBytes)))
}
