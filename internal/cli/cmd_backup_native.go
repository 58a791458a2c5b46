package cli

import (
	"context"
	"time"

	"github.com/spf13/pflag"

	"github.com/milvault/milvault/backup"
	"github.com/milvault/milvault/milvus"
	"github.com/milvault/milvault/native"
	"github.com/milvault/milvault/progress"
)

// Backup modes of --mode.
const (
	modeLogical = native.ModeLogical
	modeNative  = native.ModeNative
	modeAuto    = native.ModeAuto
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
	if native.CheckMode(o.Mode) != nil {
		return usageErrorf("--mode %q: use logical, native or auto", o.Mode)
	}
	return nil
}

// modeOptions are the flags as native.ModeOptions.
func (o *NativeOptions) modeOptions() native.ModeOptions {
	return native.ModeOptions{Mode: o.Mode, Storage: o.MilvusStorage, MetricsURL: o.MetricsURL, GCPause: o.GCPause}
}

// run takes the backup in the chosen mode and says which one it took.
func (o *NativeOptions) run(ctx context.Context, g *GlobalOptions, c *milvus.Client, deps backup.Deps, p backup.Params) (*backup.Result, error) {
	res, err := native.BackupInMode(ctx, native.Deps{Milvus: c, Repo: deps.Repo, Progress: deps.Progress,
		ToolVersion: deps.ToolVersion, Lock: deps.Lock, RBAC: deps.RBAC}, o.modeOptions(), p)
	if err != nil {
		return nil, err
	}
	if res.Why != "" {
		g.warnf("backup mode: %s (%s)", res.Mode, res.Why)
	}
	if res.Mode == modeNative {
		s := res.Stats
		g.warnf("native backup: %d segment files (%s), %d newly stored (%s), %d shared with earlier backups; garbage collection %s",
			s.Files, progress.HumanBytes(s.Bytes), s.Stored, progress.HumanBytes(s.StoredBytes), s.Files-s.Stored, res.GC)
		if res.ResumedFiles > 0 {
			g.warnf("resumed: %d segment files an interrupted native backup had stored were reused", res.ResumedFiles)
		}
	}
	return res.Result.Result, nil
}

// gcPauser is the garbage-collection API of --milvus-metrics, or nil.
func (o *NativeOptions) gcPauser(g *GlobalOptions) *native.GCPauser {
	return o.modeOptions().GCPauser(g.Milvus)
}
