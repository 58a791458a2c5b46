package cli

import (
	"context"
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
	capture          guardCaptureFlags // --capture and its settings (cmd_guard_capture.go)
}

// AddFlags registers the flags.
func (o *GuardOptions) AddFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.Listen, "listen", "127.0.0.1:19530", "address applications connect to instead of Milvus (gRPC)")
	f.StringVar(&o.HTTPListen, "http-listen", "127.0.0.1:9091", "address of /healthz and /metrics (\"\" for none)")
	f.StringVar(&o.CollectionPolicy, "collection-policy", "trash", "what DropCollection does: trash (rename into the trash, see milvault trash), backup (back up, then drop), refuse, or allow")
	f.StringVar(&o.PartitionPolicy, "partition-policy", "refuse", "what DropPartition does: refuse or allow")
	f.StringVar(&o.DatabasePolicy, "database-policy", "refuse", "what DropDatabase does: refuse or allow")
	f.Float64Var(&o.MaxDeleteShare, "max-delete-share", 0, "largest share of a collection (0-1, e.g. 0.2) one Delete may remove before --delete-policy applies; 0 means no limit")
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
	if err := cfg.Validate(); err != nil {
		return usageErrorf("%v", err)
	}
	if err := o.capture.check(); err != nil {
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
	}
	log.Info("milvault guard started", "listen", ln.Addr().String(), "http", o.HTTPListen, "milvus", upstream)
	return gd.Serve(ctx, ln, hln, reg)
}

// guardBackup takes the backup of the backup policies: a logical backup
// of one collection with the guard's own credentials (--token).
func guardBackup(ctx context.Context, g *GlobalOptions, r *repo.Repository, db, coll string) (string, error) {
	c, err := g.connect(ctx)
	if err != nil {
		return "", err
	}
	defer c.Close()
	res, err := backup.Run(ctx, backup.Deps{Milvus: c, Repo: r, ToolVersion: Version},
		backup.Params{Database: db, Collections: []string{coll}})
	if err != nil {
		return "", err
	}
	return res.Manifest.ID, nil
}
