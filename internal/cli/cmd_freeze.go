package cli

import (
	"context"
	"errors"
	"time"

	"github.com/spf13/cobra"

	"github.com/milvault/milvault/native"
)

// FreezeOptions are the flags of `milvault freeze` and `milvault thaw`.
type FreezeOptions struct {
	Database    string
	Collections []string
	For         time.Duration
	MetricsURL  string
}

// AddFlags registers the flags of freeze (thaw uses only --milvus-metrics).
func (o *FreezeOptions) AddFlags(cmd *cobra.Command, thaw bool) {
	f := cmd.Flags()
	f.StringVar(&o.MetricsURL, "milvus-metrics", "", "Milvus metrics/management URL (default http://<milvus host>:9091)")
	if thaw {
		return
	}
	f.StringVar(&o.Database, "database", "default", "database of the collections")
	f.StringArrayVarP(&o.Collections, "collection", "c", nil, "collection to flush (repeatable; default: all of --database)")
	f.DurationVar(&o.For, "for", 30*time.Minute, "how long garbage collection stays paused; it resumes by itself afterwards")
}

func newFreezeCommand(g *GlobalOptions) *cobra.Command {
	o := &FreezeOptions{}
	cmd := &cobra.Command{
		Use:   "freeze",
		Short: "Flush collections and pause Milvus garbage collection for a storage snapshot",
		Example: `  milvault freeze --for 20m          # flush every collection, pause GC for 20 minutes
  milvault freeze -c docs --json     # prints the flush timestamp
  milvault thaw                      # resume GC after the snapshot`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runFreeze(cmd.Context(), g, o) },
	}
	o.AddFlags(cmd, false)
	return cmd
}

func newThawCommand(g *GlobalOptions) *cobra.Command {
	o := &FreezeOptions{}
	cmd := &cobra.Command{
		Use:   "thaw",
		Short: "Resume Milvus garbage collection paused by milvault freeze",
		Args:  noArgs,
		RunE:  func(cmd *cobra.Command, args []string) error { return runThaw(cmd.Context(), g, o) },
	}
	o.AddFlags(cmd, true)
	return cmd
}

func (o *FreezeOptions) pauser(g *GlobalOptions) *native.GCPauser {
	n := NativeOptions{MetricsURL: o.MetricsURL}
	return n.gcPauser(g)
}

func runFreeze(ctx context.Context, g *GlobalOptions, o *FreezeOptions) error {
	if o.For <= 0 {
		return usageErrorf("--for %s: give a positive duration", o.For)
	}
	c, err := g.connect(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	res, err := native.Freeze(ctx, c, o.pauser(g), native.FreezeParams{Database: o.Database, Collections: o.Collections, For: o.For})
	if err != nil {
		return err
	}
	if g.JSON {
		return writeJSON(g, res)
	}
	g.printf("flushed %d collection(s); flush timestamp %d\ngarbage collection %s\n", len(res.Flushed), res.Timestamp, res.GC)
	return nil
}

func runThaw(ctx context.Context, g *GlobalOptions, o *FreezeOptions) error {
	err := native.Thaw(ctx, o.pauser(g))
	if errors.Is(err, native.ErrGCPauseUnsupported) {
		g.printf("nothing to thaw: %v\n", err)
		return nil
	}
	if err != nil {
		return err
	}
	g.printf("garbage collection resumed\n")
	return nil
}
