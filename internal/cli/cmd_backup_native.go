package cli

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/spf13/pflag"

	"github.com/milvault/milvault/backup"
	"github.com/milvault/milvault/milvus"
	"github.com/milvault/milvault/native"
	"github.com/milvault/milvault/progress"
	"github.com/milvault/milvault/repo"
)

// Backup modes of --mode.
const (
	modeLogical = "logical"
	modeNative  = "native"
	modeAuto    = "auto"
)

// NativeOptions are the flags of native backups (backup --mode native|auto).
type NativeOptions struct {
	Mode          string
	MilvusStorage string
	MetricsURL    string
	GCPause       time.Duration
}

// addFlags registers the native-backup flags of `milvault backup`.
func (o *NativeOptions) addFlags(f *pflag.FlagSet) {
	f.StringVar(&o.Mode, "mode", modeLogical, "logical (rows read through queries, Parquet files), native (copy Milvus's segment files; incremental; needs --milvus-storage) or auto (native when the storage is reachable and the server supports it)")
	addMilvusStorageFlag(f, &o.MilvusStorage)
	f.StringVar(&o.MetricsURL, "milvus-metrics", "", "Milvus metrics/management URL used to pause garbage collection during a native backup (default http://<milvus host>:9091; none: do not pause)")
	f.DurationVar(&o.GCPause, "gc-pause", native.DefaultGCPause, "length of one garbage-collection pause; renewed while a native backup runs")
}

// addMilvusStorageFlag registers --milvus-storage.
func addMilvusStorageFlag(f *pflag.FlagSet, v *string) {
	f.StringVar(v, "milvus-storage", "", "Milvus's object storage for native backups: s3://bucket/rootPath?endpoint=http://minio:9000&use_path_style=true (credentials from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY) or the local storage folder of a standalone on this host")
}

func (o *NativeOptions) check() error {
	switch o.Mode {
	case modeLogical, modeNative, modeAuto:
		return nil
	}
	return usageErrorf("--mode %q: use logical, native or auto", o.Mode)
}

// run takes the backup in the chosen mode and says which one it took.
func (o *NativeOptions) run(ctx context.Context, g *GlobalOptions, c *milvus.Client, deps backup.Deps, p backup.Params) (*backup.Result, error) {
	st, why, err := o.choose(ctx, c, deps.Repo)
	if err != nil {
		return nil, err
	}
	if st == nil {
		if o.Mode == modeAuto {
			g.warnf("backup mode: logical (%s)", why)
		}
		return backup.Run(ctx, deps, p)
	}
	if o.Mode == modeAuto {
		g.warnf("backup mode: native (%s)", why)
	}
	res, err := native.Backup(ctx, native.Deps{Milvus: c, Repo: deps.Repo, Storage: st, GC: o.gcPauser(g), GCPause: o.GCPause,
		Progress: deps.Progress, ToolVersion: deps.ToolVersion, Lock: deps.Lock, RBAC: deps.RBAC}, p)
	if err != nil {
		return nil, err
	}
	s := res.Stats
	g.warnf("native backup: %d segment files (%s), %d newly stored (%s), %d shared with earlier backups; garbage collection %s",
		s.Files, progress.HumanBytes(s.Bytes), s.Stored, progress.HumanBytes(s.StoredBytes), s.Files-s.Stored, res.GC)
	return res.Result, nil
}

// choose opens Milvus's storage for a native backup, or returns nil and
// why not for a logical one. A native backup that cannot run is an error.
func (o *NativeOptions) choose(ctx context.Context, c *milvus.Client, repoOf *repo.Repository) (*native.Storage, string, error) {
	if o.Mode == modeLogical {
		return nil, "", nil
	}
	if err := native.CheckRepository(repoOf); err != nil {
		if o.Mode == modeNative {
			return nil, "", err
		}
		return nil, "the repository is encrypted and no key was given (native backups need it)", nil
	}
	st, err := o.openStorage(ctx, c)
	if err == nil {
		return st, "Milvus storage " + st.Store.Location() + " is reachable", nil
	}
	if o.Mode == modeNative {
		return nil, "", err
	}
	return nil, err.Error(), nil
}

func (o *NativeOptions) openStorage(ctx context.Context, c *milvus.Client) (*native.Storage, error) {
	if err := native.CheckServer(c.Version()); err != nil {
		return nil, err
	}
	st, err := native.OpenStorage(ctx, o.MilvusStorage)
	if err != nil {
		return nil, err
	}
	// One delimiter listing: a full listing of insert_log/ would read the
	// name of every segment file of every collection.
	if _, err := st.Folders(ctx, "insert_log/"); err != nil {
		return nil, fmt.Errorf("the Milvus storage %s is not reachable: %w", st.Store.Location(), err)
	}
	return st, nil
}

// gcPauser is the garbage-collection API of --milvus-metrics, or nil.
func (o *NativeOptions) gcPauser(g *GlobalOptions) *native.GCPauser {
	switch o.MetricsURL {
	case "none":
		return nil
	case "":
		host, _, err := net.SplitHostPort(g.Milvus)
		if err != nil {
			return nil
		}
		return &native.GCPauser{URL: "http://" + net.JoinHostPort(host, "9091")}
	}
	return &native.GCPauser{URL: o.MetricsURL}
}
