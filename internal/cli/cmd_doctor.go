package cli

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/milvault/milvault/config"
	"github.com/milvault/milvault/doctor"
	"github.com/milvault/milvault/milvus"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/blob"
)

// Exit codes of `milvault doctor` (docs/cli.md): the verdict, or 3 when it
// could not run.
const (
	doctorClean    = 0
	doctorWarning  = 1
	doctorCritical = 2
	doctorCannot   = 3
)

// probeTimeout bounds each network probe (bucket, management port).
const probeTimeout = 5 * time.Second

// DoctorOptions are the flags of `milvault doctor`.
type DoctorOptions struct {
	ConfigFiles  []string
	RPO          time.Duration
	VerifyWithin time.Duration
	S3Endpoint   string
	S3Bucket     string
	MetricsURL   string
}

// AddFlags registers the flags.
func (o *DoctorOptions) AddFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringArrayVarP(&o.ConfigFiles, "config-file", "f", nil, "milvus.yaml, Helm values, Kubernetes manifests (kubectl get -o yaml) or docker-compose file; repeatable")
	config.DurationVar(f, &o.RPO, "rpo", 24*time.Hour, "newest backup of each collection must be younger than this (e.g. 1d, 36h)")
	config.DurationVar(f, &o.VerifyWithin, "verify-within", 7*24*time.Hour, "each collection needs a successful verify or drill within this (e.g. 7d, 36h)")
	f.StringVar(&o.S3Endpoint, "s3-endpoint", "", "object-store endpoint to probe for anonymous access (http(s)://host:port)")
	f.StringVar(&o.S3Bucket, "s3-bucket", "", "bucket to probe at --s3-endpoint (default: the bucket in the config files, else a-bucket)")
	f.StringVar(&o.MetricsURL, "metrics-url", "", "Milvus management port (default http://<milvus host>:9091)")
}

func newDoctorCommand(g *GlobalOptions) *cobra.Command {
	o := &DoctorOptions{}
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Find misconfigurations that lose Milvus data: storage, etcd, buckets, backups, access",
		Long: `doctor inspects a running Milvus (--milvus), configuration files (--config-file)
and the backup repository (--repo), and reports findings with evidence and fixes.
Exit code: 0 clean, 1 warnings, 2 critical, 3 could not run (bad flags
included) or nothing was checked.`,
		Args: func(cmd *cobra.Command, args []string) error { return cannotRun(noArgs(cmd, args)) },
		RunE: func(cmd *cobra.Command, args []string) error { return runDoctor(cmd.Context(), g, o) },
		// doctor's exit codes are a verdict, so failing to start is its own code.
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error { return cannotRun(g.preRun(cmd)) },
	}
	cmd.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error { return cannotRun(flagError(cmd, err)) })
	o.AddFlags(cmd)
	return cmd
}

func runDoctor(ctx context.Context, g *GlobalOptions, o *DoctorOptions) error {
	p, live, err := gatherDoctor(ctx, g, o)
	if err != nil {
		return cannotRun(err)
	}
	rep := doctor.Diagnose(p)
	if live != nil && live.Health == "" {
		rep.Unknown("the management port of %s did not answer /healthz", live.Address)
	}
	if g.JSON {
		err = writeJSON(g, doctorJSON{Verdict: rep.Verdict(), Report: rep, Server: live})
	} else {
		err = doctor.WriteText(g.stdout, rep)
	}
	if err != nil {
		return cannotRun(err)
	}
	if rep.NothingChecked {
		return &CodedError{Code: doctorCannot}
	}
	return &CodedError{Code: doctorExit(rep.Worst())}
}

// cannotRun gives err doctor's "could not run" exit code; nil stays nil.
func cannotRun(err error) error {
	if err == nil {
		return nil
	}
	return &CodedError{Code: doctorCannot, Err: err}
}

// doctorJSON is the --json document.
type doctorJSON struct {
	Verdict string `json:"verdict"`
	*doctor.Report
	Server *doctor.LiveFacts `json:"server,omitempty"`
}

func doctorExit(s doctor.Severity) int {
	switch s {
	case doctor.Critical:
		return doctorCritical
	case doctor.Warning:
		return doctorWarning
	}
	return doctorClean
}

// gatherDoctor does all the I/O: files, server, buckets, repository.
func gatherDoctor(ctx context.Context, g *GlobalOptions, o *DoctorOptions) (doctor.Params, *doctor.LiveFacts, error) {
	var p doctor.Params
	in, err := doctor.ParseFiles(o.ConfigFiles)
	if err != nil {
		return p, nil, err
	}
	p.Inputs = in
	if wantLive(g, o) {
		if p.Live, err = gatherLive(ctx, g, o); err != nil {
			return p, nil, err
		}
	}
	p.Buckets = probeBuckets(ctx, o, in)
	if p.Coverage, err = gatherCoverage(ctx, g, o, p.Live); err != nil {
		return p, nil, err
	}
	return p, p.Live, nil
}

// wantLive reports whether to ask a server: when --milvus (or its env or
// config key) names one, or when no file was given at all.
func wantLive(g *GlobalOptions, o *DoctorOptions) bool {
	return len(o.ConfigFiles) == 0 || g.Milvus != "localhost:19530" || g.flags.Flags().Changed("milvus")
}

func gatherLive(ctx context.Context, g *GlobalOptions, o *DoctorOptions) (*doctor.LiveFacts, error) {
	cfg, err := g.milvusConfig(g.Milvus)
	if err != nil {
		return nil, err
	}
	dial := func(ctx context.Context, token string) (doctor.LiveConn, error) {
		c := cfg
		c.Token = token
		return milvus.Connect(ctx, c)
	}
	f, err := doctor.GatherLiveTLS(ctx, g.Milvus, g.Token, dial, cfg.TLS)
	if err != nil {
		return nil, err
	}
	hctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	f.Health = doctor.ProbeHealth(hctx, &http.Client{Timeout: probeTimeout}, metricsURL(g.Milvus, o.MetricsURL))
	return &f, nil
}

// metricsURL derives the management port URL from the Milvus address: the
// same host as the gRPC port (as ParseAddress reads it), port 9091.
func metricsURL(address, explicit string) string {
	if explicit != "" {
		return explicit
	}
	a, err := milvus.ParseAddress(address)
	if err != nil {
		return "" // the connection reports the bad address; no probe
	}
	return "http://" + net.JoinHostPort(a.Host, "9091")
}

// probeBuckets probes --s3-endpoint and every endpoint named in the files.
func probeBuckets(ctx context.Context, o *DoctorOptions, in *doctor.Inputs) []doctor.BucketProbe {
	targets := doctor.BucketTargets(in)
	if o.S3Endpoint != "" {
		t := doctor.BucketTarget{Endpoint: o.S3Endpoint, Bucket: o.S3Bucket, Where: doctor.Where{Path: "--s3-endpoint"}}
		if t.Bucket == "" {
			t.Bucket = defaultBucket(targets)
		}
		targets = append([]doctor.BucketTarget{t}, targets...)
	}
	client := &http.Client{Timeout: probeTimeout}
	var out []doctor.BucketProbe
	for _, t := range targets {
		out = append(out, doctor.ProbeBucket(ctx, client, t))
	}
	return out
}

func defaultBucket(ts []doctor.BucketTarget) string {
	if len(ts) > 0 {
		return ts[0].Bucket
	}
	return "a-bucket"
}

// gatherCoverage reads the repository when --repo names one or the default
// folder exists; a named repository that cannot be opened is an error.
func gatherCoverage(ctx context.Context, g *GlobalOptions, o *DoctorOptions, live *doctor.LiveFacts) (*doctor.Coverage, error) {
	explicit := g.Repo != "./milvault-backups" || g.flags.Flags().Changed("repo")
	if _, err := os.Stat(g.Repo); !explicit && err != nil {
		return nil, nil
	}
	r, err := g.openRepo(ctx)
	if err != nil {
		return nil, fmt.Errorf("open repository %s: %w", g.repoDisplay(), err)
	}
	cv := &doctor.Coverage{Repository: g.repoDisplay(), Now: time.Now(), RPO: o.RPO, VerifyWithin: o.VerifyWithin}
	if live != nil {
		cv.Live = live.Collections
	}
	cv.Protection = repoProtection(ctx, g.Repo, r)
	cv.Backups, err = backupInfos(ctx, r)
	return cv, err
}

// backupInfos converts the repository's manifests and proofs.
func backupInfos(ctx context.Context, r *repo.Repository) ([]doctor.BackupInfo, error) {
	all, _, err := r.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("list backups: %w", err)
	}
	proofs, err := r.Proofs(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]doctor.BackupInfo, 0, len(all))
	for _, m := range all {
		b := doctor.BackupInfo{ID: m.ID, Name: m.Name, CreatedAt: m.CreatedAt}
		for _, c := range m.Collections {
			b.Collections = append(b.Collections, doctor.CollectionRef{Database: c.Database, Name: c.Name})
		}
		for _, p := range proofs[m.ID] {
			b.Proofs = append(b.Proofs, doctor.ProofInfo{Kind: p.Kind, OK: p.OK, At: p.At})
		}
		out = append(out, b)
	}
	return out, nil
}

// repoProtection asks the bucket of an s3:// repository about versioning
// and object lock; nil for other repositories.
func repoProtection(ctx context.Context, loc string, r *repo.Repository) *doctor.RepoProtection {
	if !strings.HasPrefix(loc, "s3://") || r == nil {
		return nil
	}
	p := &doctor.RepoProtection{Bucket: strings.SplitN(strings.TrimPrefix(loc, "s3://"), "/", 2)[0]}
	if ol := r.Config().ObjectLock; ol != nil {
		p.RepoLock = ol.Mode + " " + ol.Retention().String()
	}
	s, err := blob.Open(ctx, loc)
	if err != nil {
		p.Err = err
		return p
	}
	defer s.Close()
	bp, err := s.Protection(ctx)
	p.Versioning, p.ObjectLock, p.Err = bp.Versioning, bp.ObjectLock, err
	return p
}
