package guard

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Serve runs the proxy on grpcLn and, when httpLn is set, /healthz and
// /metrics on httpLn, until ctx ends (then calls in flight get up to ten
// seconds to finish) or a server fails.
func (g *Guard) Serve(ctx context.Context, grpcLn, httpLn net.Listener, gatherer prometheus.Gatherer) error {
	srv := g.Server()
	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(grpcLn) }()
	var hs *http.Server
	if httpLn != nil {
		hs = &http.Server{Handler: g.HTTPHandler(gatherer), ReadHeaderTimeout: 10 * time.Second}
		go func() { errc <- hs.Serve(httpLn) }()
	}
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	stopped := make(chan struct{})
	go func() { srv.GracefulStop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		srv.Stop()
	}
	if hs != nil {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		hs.Shutdown(sctx)
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}
