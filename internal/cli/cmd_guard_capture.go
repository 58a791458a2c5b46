package cli

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/pflag"

	"github.com/milvault/milvault/capture"
	"github.com/milvault/milvault/config"
	"github.com/milvault/milvault/guard"
	"github.com/milvault/milvault/repo"
)

// guardCaptureFlags are the continuous-capture flags of `milvault guard`.
type guardCaptureFlags struct {
	Mode           string
	GuardID        string
	CommitInterval time.Duration
	SegmentSize    int64
}

func (o *guardCaptureFlags) addFlags(f *pflag.FlagSet) {
	f.StringVar(&o.Mode, "capture", "off", "continuous capture of inserts, upserts and deletes into the repository for point-in-time restore: off, fail-closed (a write is answered once captured; one that cannot be captured is answered with an error) or fail-open (answered at once; a failed capture is recorded as a gap and raised in the metrics)")
	f.StringVar(&o.GuardID, "guard-id", "", "name of this guard's capture folder (capture/<id>/ in the repository); must be stable across restarts and unique among running guards (default: the host name)")
	f.DurationVar(&o.CommitInterval, "capture-commit-interval", capture.DefaultCommitInterval, "longest time a captured write waits before its segment is committed under fail-open (fail-closed commits at once, grouping the writes that arrive during a commit)")
	config.SizeVar(f, &o.SegmentSize, "capture-segment-size", capture.DefaultSegmentBytes, "pending captured bytes that make a segment be committed at once (e.g. 16MiB)")
}

// start opens the capture log when capture is on and hooks it into gd; the
// returned function closes the log (after the server stopped).
func (o *guardCaptureFlags) start(ctx context.Context, gd *guard.Guard, r *repo.Repository, reg prometheus.Registerer, log *slog.Logger) (func(), error) {
	if o.Mode == "off" || o.Mode == "" {
		return func() {}, nil
	}
	mode, err := guard.ParseCaptureMode(o.Mode)
	if err != nil {
		return nil, usageErrorf("--capture: %v", err)
	}
	id := o.GuardID
	if id == "" {
		if id, err = os.Hostname(); err != nil {
			return nil, usageErrorf("--guard-id: the host name is unknown (%v); name the guard", err)
		}
	}
	if err := capture.ValidGuardID(id); err != nil {
		return nil, usageErrorf("--guard-id: %v", err)
	}
	if o.CommitInterval <= 0 || o.SegmentSize <= 0 {
		return nil, usageErrorf("--capture-commit-interval and --capture-segment-size must be positive")
	}
	w, err := capture.Open(ctx, r, capture.Options{GuardID: id, CommitInterval: o.CommitInterval,
		SegmentBytes: int(o.SegmentSize), Observer: guard.NewCaptureMetrics(reg)})
	if err != nil {
		return nil, err
	}
	gd.Capture(w, mode)
	log.Info("continuous capture on", "mode", string(mode), "guard_id", id, "commit_interval", o.CommitInterval.String())
	return func() {
		cctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := w.Close(cctx); err != nil {
			log.Error("closing the capture log failed; readers will see a gap after its last commit", "error", err.Error())
		}
	}, nil
}

// check refuses bad capture flags before anything is opened.
func (o *guardCaptureFlags) check() error {
	if o.Mode == "off" || o.Mode == "" {
		return nil
	}
	if _, err := guard.ParseCaptureMode(o.Mode); err != nil {
		return usageErrorf("--capture: %v", err)
	}
	if o.GuardID != "" {
		if err := capture.ValidGuardID(o.GuardID); err != nil {
			return usageErrorf("--guard-id: %v", err)
		}
	}
	return nil
}
