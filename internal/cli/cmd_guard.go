package cli

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/milvault/milvault/backup"
	"github.com/milvault/milvault/guard"
	"github.com/milvault/milvault/repo"
)

// GuardOptions are the flags of `milvault guard`.
type GuardOptions struct {
	Listen           string
	HTTPListen       string
	CollectionPolicy string
	PartitionPolicy  string
	DatabasePolicy   string
	MaxDeleteShare   float64
	DeletePolicy     string
	ListenTLSCert    string
	ListenTLSKey     string
	ListenTLSCA      string
	MetricsTLSCert   string
	MetricsTLSKey    string
	metricsTLS       *tls.Config       // read from the two above by runGuard
	capture          guardCaptureFlags // --capture and its settings (cmd_guard_capture.go)
}

// AddFlags registers the flags.
func (o *GuardOptions) AddFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.Listen, "listen", "127.0.0.1:19530", "address applications connect to instead of Milvus (gRPC)")
	f.StringVar(&o.HTTPListen, "http-listen", "127.0.0.1:9091", "address of /healthz and /metrics (\"\" for none)")
	f.StringVar(&o.CollectionPolicy, "collection-policy", "trash", "what DropCollection does: trash (rename into the trash, see milvault trash), backup (back up, then drop), refuse, or allow")
	f.StringVar(&o.PartitionPolicy, "partition-policy", "refuse", "what DropPartition does: refuse, backup (back up the partition, then drop), or allow")
	f.StringVar(&o.DatabasePolicy, "database-policy", "refuse", "what DropDatabase does: refuse, backup (back up and purge the database's trash collections, then drop), or allow")
	f.Float64Var(&o.MaxDeleteShare, "max-delete-share", 0, "largest share of a collection (0-1, e.g. 0.2) one Delete may remove before --delete-policy applies; 0 means no limit")
	f.StringVar(&o.ListenTLSCert, "listen-tls-cert", "", "PEM certificate the guard shows applications: serve --listen over TLS (needs --listen-tls-key; Milvus's own TLS is --tls-ca/--tls-cert)")
	f.StringVar(&o.ListenTLSKey, "listen-tls-key", "", "PEM private key of --listen-tls-cert")
	f.StringVar(&o.ListenTLSCA, "listen-tls-client-ca", "", "PEM CA whose client certificates the guard requires on --listen (mutual TLS; needs --listen-tls-cert)")
	f.StringVar(&o.MetricsTLSCert, "metrics-tls-cert", "", "PEM certificate of --http-listen: serve /healthz and /metrics over HTTPS (needs --metrics-tls-key)")
	f.StringVar(&o.MetricsTLSKey, "metrics-tls-key", "", "PEM private key of --metrics-tls-cert")
	o.capture.addFlags(f)
	f.StringVar(&o.DeletePolicy, "delete-policy", "refuse", "what a Delete above --max-delete-share does: refuse (the caller may confirm with the header x-milvault-confirm: delete) or backup (back up, then delete)")
}

func newGuardCommand(g *GlobalOptions) *cobra.Command {
	o := &GuardOptions{}
	cmd := &cobra.Command{
		Use:   "guard --listen ADDR --milvus UPSTREAM --repo URL",
		Short: "Stand in front of Milvus as a gRPC proxy that makes drops undoable (trash, backup first, or refuse)",
		Example: `  milvault guard --listen 0.0.0.0:19530 --milvus milvus:19530 --repo s3://bucket/milvault
  milvault guard --listen :19531 --milvus localhost:19530 --repo /backups --collection-policy backup`,
		Long: `guard is a transparent proxy for the Milvus gRPC protocol. Applications
connect to --listen instead of Milvus and change nothing else: every call is
forwarded as it is, with its authentication. DropCollection follows
--collection-policy (trash by default: the collection is renamed into the
trash, and "milvault trash restore NAME" brings it back with its aliases);
DropPartition and DropDatabase are refused unless their policy is allow.
Every intercepted drop is in the audit trail. /healthz and /metrics are
served on --http-listen. --token is used only by the backup policy; every
forwarded call keeps its caller's own credentials.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runGuard(cmd.Context(), g, o) },
	}
	o.AddFlags(cmd)
	return cmd
}

func runGuard(ctx context.Context, g *GlobalOptions, o *GuardOptions) error {
	var r *repo.Repository
	reg := prometheus.NewRegistry()
	cfg := guard.Config{UpstreamAddress: g.Milvus,
		Collections: guard.Policy(o.CollectionPolicy), Partitions: guard.Policy(o.PartitionPolicy),
		Databases: guard.Policy(o.DatabasePolicy),
		Deletes:   guard.DeleteLimit{MaxShare: o.MaxDeleteShare, Policy: guard.Policy(o.DeletePolicy)},
		Logger:    slog.New(slog.NewJSONHandler(g.stderr, nil))}
	if cfg.Collections == guard.PolicyBackup || cfg.Deletes.Policy == guard.PolicyBackup {
		cfg.Backup = func(ctx context.Context, db, coll string) (string, error) { return guardBackup(ctx, g, r, db, coll) }
	}
	if cfg.Partitions == guard.PolicyBackup || cfg.Databases == guard.PolicyBackup {
		cfg.BackupScope = func(ctx context.Context, s guard.Scope) (string, error) { return guardBackupScope(ctx, g, r, s) }
	}
	if err := cfg.Validate(); err != nil {
		return usageErrorf("%v", err)
	}
	if err := o.capture.check(); err != nil {
		return err
	}
	var err error
	if cfg.TLS, err = o.listenerTLS(); err != nil {
		return err
	}
	if o.metricsTLS, err = o.httpTLS(); err != nil {
		return err
	}
	tlsConf, err := g.milvusFlags.TLS.Config()
	if err != nil {
		return err
	}
	if r, err = g.openRepo(ctx); err != nil {
		return err
	}
	conn, err := guard.Dial(g.Milvus, tlsConf)
	if err != nil {
		return err
	}
	defer conn.Close()
	cfg.Upstream, cfg.Repo, cfg.Metrics = conn, r, guard.NewMetrics(reg)
	gd, err := guard.New(cfg)
	if err != nil {
		return err
	}
	stopCapture, err := o.capture.start(ctx, gd, r, reg, cfg.Logger)
	if err != nil {
		return err
	}
	defer stopCapture()
	return serveGuard(ctx, gd, o, g.Milvus, cfg.Logger, reg)
}

// listenerTLS reads --listen-tls-*: nil when the listener is plain.
func (o *GuardOptions) listenerTLS() (*tls.Config, error) {
	if o.ListenTLSCert == "" && o.ListenTLSKey == "" && o.ListenTLSCA == "" {
		return nil, nil
	}
	if o.ListenTLSCert == "" || o.ListenTLSKey == "" {
		return nil, usageErrorf("--listen-tls-cert and --listen-tls-key go together (--listen-tls-client-ca needs them too)")
	}
	conf, err := guard.ListenerTLS(o.ListenTLSCert, o.ListenTLSKey, o.ListenTLSCA)
	if err != nil {
		return nil, usageErrorf("guard listener TLS: %v", err)
	}
	return conf, nil
}

// httpTLS reads --metrics-tls-*: nil when /metrics is plain HTTP.
func (o *GuardOptions) httpTLS() (*tls.Config, error) {
	if o.MetricsTLSCert == "" && o.MetricsTLSKey == "" {
		return nil, nil
	}
	if o.MetricsTLSCert == "" || o.MetricsTLSKey == "" {
		return nil, usageErrorf("--metrics-tls-cert and --metrics-tls-key go together")
	}
	if o.HTTPListen == "" {
		return nil, usageErrorf("--metrics-tls-cert serves --http-listen over HTTPS, but --http-listen is \"\" (off)")
	}
	conf, err := guard.ListenerTLS(o.MetricsTLSCert, o.MetricsTLSKey, "")
	if err != nil {
		return nil, usageErrorf("guard metrics TLS: %v", err)
	}
	return conf, nil
}

// serveGuard opens the listeners and serves until ctx ends.
func serveGuard(ctx context.Context, gd *guard.Guard, o *GuardOptions, upstream string, log *slog.Logger, reg *prometheus.Registry) error {
	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", o.Listen, err)
	}
	var hln net.Listener
	if o.HTTPListen != "" {
		if hln, err = net.Listen("tcp", o.HTTPListen); err != nil {
			ln.Close()
			return fmt.Errorf("listen on %s: %w", o.HTTPListen, err)
		}
		if o.metricsTLS != nil {
			hln = tls.NewListener(hln, o.metricsTLS)
		}
	}
	log.Info("milvault guard started", "listen", ln.Addr().String(), "http", o.HTTPListen, "milvus", upstream)
	return gd.Serve(ctx, ln, hln, reg)
}

// guardBackup takes the backup of the backup policies: a logical backup
// of one collection with the guard's own credentials (--token).
func guardBackup(ctx context.Context, g *GlobalOptions, r *repo.Repository, db, coll string) (string, error) {
	return guardBackupScope(ctx, g, r, guard.Scope{Database: db, Collections: []string{coll}})
}

// guardBackupScope is guardBackup for the partition and database
// policies: the collections of s, or the one partition it names.
func guardBackupScope(ctx context.Context, g *GlobalOptions, r *repo.Repository, s guard.Scope) (string, error) {
	c, err := g.connect(ctx)
	if err != nil {
		return "", err
	}
	defer c.Close()
	p := backup.Params{Database: s.Database, Collections: s.Collections}
	if s.Partition != "" {
		p.Partitions = []string{s.Partition}
	}
	res, err := backup.Run(ctx, backup.Deps{Milvus: c, Repo: r, ToolVersion: Version}, p)
	if err != nil {
		return "", err
	}
	return res.Manifest.ID, nil
}
