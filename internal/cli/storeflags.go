package cli

import (
	"context"
	"log/slog"

	"github.com/spf13/pflag"

	"github.com/milvault/milvault/config"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/limit"
	"github.com/milvault/milvault/repo/location"
	"github.com/milvault/milvault/repo/logged"
	"github.com/milvault/milvault/repo/retry"
)

// storeFlags are the global options of the wrappers stacked around every
// repository store.
type storeFlags struct {
	Retries       int
	UploadLimit   int64
	DownloadLimit int64
	Connections   int
	LogStore      bool
}

func (o *storeFlags) addFlags(f *pflag.FlagSet) {
	f.IntVar(&o.Retries, "retries", 5, "attempts per repository operation on transient errors (1 disables retries)")
	config.SizeVar(f, &o.UploadLimit, "upload-limit", 0, "upload bandwidth limit per process, e.g. 50MiB (per second; default unlimited)")
	config.SizeVar(f, &o.DownloadLimit, "download-limit", 0, "download bandwidth limit per process, e.g. 100MiB (per second; default unlimited)")
	f.IntVar(&o.Connections, "connections", 0, "most repository operations at once (default unlimited)")
	f.BoolVar(&o.LogStore, "log-store", false, "log every repository operation with its duration on stderr")
}

// wrap stacks the wrappers around s: retries outermost, so that each
// attempt is logged and limited, and so that Put readers reach the retry
// wrapper still seekable.
func (g *GlobalOptions) wrapStore(s repo.Store) (repo.Store, error) {
	o := g.storeFlags
	up, down := o.UploadLimit, o.DownloadLimit
	if o.Retries < 1 || o.Connections < 0 {
		return nil, usageErrorf("--retries must be at least 1 and --connections not negative")
	}
	isTransient := repo.TransientClassifier(s)
	if up > 0 || down > 0 || o.Connections > 0 {
		s = limit.Wrap(s, limit.Options{Connections: o.Connections, UploadBytesPerSec: up, DownloadBytesPerSec: down})
	}
	if o.LogStore {
		s = logged.Wrap(s, slog.New(slog.NewTextHandler(g.stderr, nil)), logged.Options{Level: slog.LevelInfo})
	}
	if o.Retries > 1 {
		s = retry.Wrap(s, retry.Options{IsTransient: isTransient, MaxAttempts: o.Retries})
	}
	return s, nil
}

// openStoreAt opens the store at a repository location with the wrappers
// the global flags ask for.
func (g *GlobalOptions) openStoreAt(loc string) (repo.Store, error) {
	s, err := location.Open(context.Background(), loc)
	if err != nil {
		return nil, err
	}
	return g.wrapStore(s)
}
