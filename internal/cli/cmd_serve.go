package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/milvault/milvault/config"
	"github.com/milvault/milvault/service"
	"github.com/milvault/milvault/service/api"
	"github.com/milvault/milvault/service/web"
)

// ServeOptions are the flags of `milvault serve`.
type ServeOptions struct {
	Listen         string
	CheckConfig    bool
	InsecureNoAuth bool
	AdminTokenFile string
	ReadTokenFile  string
	TLSCert        string
	TLSKey         string
}

// AddFlags registers the flags.
func (o *ServeOptions) AddFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.Listen, "listen", "127.0.0.1:8080", "address of the status page, the HTTP API and /metrics")
	f.BoolVar(&o.CheckConfig, "check-config", false, "check the configuration file and exit")
	f.BoolVar(&o.InsecureNoAuth, "insecure-no-auth", false, "allow listening beyond loopback without API tokens")
	f.StringVar(&o.AdminTokenFile, "admin-token-file", "", "file holding the admin API token (env MILVAULT_ADMIN_TOKEN)")
	f.StringVar(&o.ReadTokenFile, "read-token-file", "", "file holding the read-only API token (env MILVAULT_READ_TOKEN)")
	f.StringVar(&o.TLSCert, "tls-cert", "", "serve HTTPS with this certificate file (needs --tls-key)")
	f.StringVar(&o.TLSKey, "tls-key", "", "key file of --tls-cert")
}

func newServeCommand(g *GlobalOptions) *cobra.Command {
	o := &ServeOptions{}
	cmd := &cobra.Command{
		Use:   "serve --config FILE",
		Short: "Run policies on their schedules, with a status page, an HTTP API and Prometheus metrics",
		Example: `  milvault serve --config /etc/milvault/serve.yaml
  milvault serve --config serve.yaml --check-config`,
		Long: `serve runs the policies of a service configuration (--config FILE, see
examples/serve.yaml and README "Run it as a service") on their schedules, with
a status page at / (log in with an API token), an HTTP API under /api/v1 and
Prometheus metrics at /metrics. Here --config
names the service configuration, not the command line's config file; serve's
own flags can still be set as MILVAULT_SERVE_<FLAG>.`,
		Args: cobra.NoArgs,
		// The service configuration replaces the command line's config
		// file; the environment still sets flags.
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			g.flags = cmd
			return config.Apply(cmd.Flags(), commandKey(cmd), os.LookupEnv, nil)
		},
		RunE: func(cmd *cobra.Command, args []string) error { return runServe(cmd.Context(), g, o) },
	}
	o.AddFlags(cmd)
	return cmd
}

func runServe(ctx context.Context, g *GlobalOptions, o *ServeOptions) error {
	path := firstSet(g.ConfigFile, os.Getenv("MILVAULT_CONFIG"))
	if path == "" {
		return usageErrorf("serve needs --config FILE (the service configuration, see docs)")
	}
	cfg, err := service.LoadConfig(path)
	if err != nil {
		return err // *service.ConfigError: errkind.Usage, exit 2
	}
	tokens, err := o.tokens()
	if err != nil {
		return err
	}
	if err := o.checkListen(tokens); err != nil {
		return err
	}
	if o.CheckConfig {
		g.printf("%s: configuration OK (%d policies)\n", path, len(cfg.Policies))
		return nil
	}
	log := slog.New(slog.NewJSONHandler(g.stderr, nil))
	reg := prometheus.NewRegistry()
	svc, err := service.New(cfg, service.Options{Registry: reg, Logger: log, Version: Version})
	if err != nil {
		return err
	}
	svc.RestoreMetrics(ctx)
	h, err := web.Handler(svc, web.Options{Tokens: tokens, Logger: log,
		API: api.Handler(svc, api.Options{Tokens: tokens, Gatherer: reg, Logger: log})})
	if err != nil {
		svc.Shutdown()
		return err
	}
	return serveUntilStopped(ctx, svc, o, path, log, h)
}

// serveUntilStopped runs the scheduler and the HTTP server until ctx ends
// (SIGTERM, SIGINT), reloading the configuration on SIGHUP.
func serveUntilStopped(ctx context.Context, svc *service.Service, o *ServeOptions, path string, log *slog.Logger, h http.Handler) error {
	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", o.Listen, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	httpErr := make(chan error, 1)
	go func() { httpErr <- o.serveHTTP(srv, ln) }()
	log.Info("milvault serve started", "listen", ln.Addr().String(), "config", path)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	go svc.Run(runCtx)
	for {
		select {
		case <-hup:
			reload(svc, path, log)
			continue
		case err = <-httpErr:
		case <-ctx.Done():
		}
		break
	}
	log.Info("stopping: waiting for running jobs")
	stopRun()
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	return errors.Join(err, svc.Shutdown())
}

func (o *ServeOptions) serveHTTP(srv *http.Server, ln net.Listener) error {
	var err error
	if o.TLSCert != "" {
		err = srv.ServeTLS(ln, o.TLSCert, o.TLSKey)
	} else {
		err = srv.Serve(ln)
	}
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

func reload(svc *service.Service, path string, log *slog.Logger) {
	cfg, err := service.LoadConfig(path)
	if err != nil {
		log.Error("configuration not reloaded: the running one stays", "error", err)
		return
	}
	svc.Reload(cfg)
	log.Info("configuration reloaded", "policies", len(cfg.Policies))
}

// tokens reads the API tokens from their files or the environment.
func (o *ServeOptions) tokens() (api.Tokens, error) {
	var t api.Tokens
	for _, src := range []struct {
		file, env string
		into      *[]string
	}{{o.AdminTokenFile, "MILVAULT_ADMIN_TOKEN", &t.Admin}, {o.ReadTokenFile, "MILVAULT_READ_TOKEN", &t.Read}} {
		v := os.Getenv(src.env)
		if src.file != "" {
			data, err := os.ReadFile(src.file)
			if err != nil {
				return t, usageErrorf("token file: %v", err)
			}
			v = strings.TrimSpace(string(data))
		}
		if v != "" {
			*src.into = append(*src.into, v)
		}
	}
	if len(t.Admin) == 0 && len(t.Read) > 0 {
		return t, usageErrorf("a read-only token is set but no admin token: set MILVAULT_ADMIN_TOKEN or --admin-token-file too")
	}
	if (o.TLSCert == "") != (o.TLSKey == "") {
		return t, usageErrorf("--tls-cert and --tls-key go together")
	}
	return t, nil
}

// checkListen refuses an address beyond loopback without tokens, unless
// --insecure-no-auth says so.
func (o *ServeOptions) checkListen(t api.Tokens) error {
	host, _, err := net.SplitHostPort(o.Listen)
	if err != nil {
		return usageErrorf("--listen %q: use host:port, e.g. 127.0.0.1:8080", o.Listen)
	}
	ip := net.ParseIP(host)
	loopback := host == "localhost" || (ip != nil && ip.IsLoopback())
	if !loopback && t.Empty() && !o.InsecureNoAuth {
		return usageErrorf("--listen %s is reachable beyond this machine and no API token is set: set MILVAULT_ADMIN_TOKEN (and MILVAULT_READ_TOKEN), or pass --insecure-no-auth", o.Listen)
	}
	return nil
}
