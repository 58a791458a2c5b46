package cli

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/milvault/milvault/backup"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/verify"
)

// ShardOptions are the flags of a sharded backup (see backup.BeginShards):
// `backup --shards N` begins one, `backup --backup-id ID --shard I/N` runs
// a shard, `backup --commit ID` commits it, `backup --abort-shards ID`
// removes it.
type ShardOptions struct {
	Shards      int
	Shard       string
	BackupID    string
	Commit      string
	AbortShards string
}

func (o *ShardOptions) addFlags(f *pflag.FlagSet) {
	f.IntVar(&o.Shards, "shards", 0, "begin a sharded backup to be written by N processes (backup --shard): prints its id")
	f.StringVar(&o.Shard, "shard", "", "write shard I/N (0-based) of the sharded backup --backup-id")
	f.StringVar(&o.BackupID, "backup-id", "", "the sharded backup a --shard writes")
	f.StringVar(&o.Commit, "commit", "", "commit sharded backup ID once all its shards are done")
	f.StringVar(&o.AbortShards, "abort-shards", "", "remove uncommitted sharded backup ID (stop its shards first)")
}

func (o *ShardOptions) active() bool {
	return o.Shards != 0 || o.Shard != "" || o.BackupID != "" || o.Commit != "" || o.AbortShards != ""
}

// parseShard reads "I/N".
func parseShard(s string) (int, int, error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return 0, 0, usageErrorf("--shard %q: use I/N with 0 <= I < N, e.g. --shard 0/4", s)
	}
	return i, n, nil
}

// runShardStep runs the one sharded-backup step the flags ask for.
func runShardStep(ctx context.Context, g *GlobalOptions, o *BackupOptions) error {
	so := &o.ShardFlags
	steps := 0
	for _, set := range []bool{so.Shards != 0, so.Shard != "" || so.BackupID != "", so.Commit != "", so.AbortShards != ""} {
		if set {
			steps++
		}
	}
	if steps != 1 || (so.Shard == "") != (so.BackupID == "") {
		return usageErrorf("use one of: --shards N (begin), --backup-id ID --shard I/N (run a shard), --commit ID, --abort-shards ID")
	}
	if err := o.checkShardStep(); err != nil {
		return err
	}
	r, err := g.openRepo(ctx)
	if err != nil {
		return err
	}
	deps := backup.Deps{Repo: r, ToolVersion: BuildVersion().Version}
	c, err := g.connect(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	deps.Milvus = c
	switch {
	case so.Shards != 0:
		p, err := o.params()
		if err != nil {
			return err
		}
		if o.RBAC {
			deps.RBAC = c
		}
		id, err := backup.BeginShards(ctx, deps, p, so.Shards)
		if err != nil {
			return err
		}
		if g.JSON {
			return writeJSON(g, map[string]any{"id": id, "shards": so.Shards})
		}
		g.printf("%s\n", id)
		return nil
	case so.Shard != "":
		return runOneShard(ctx, g, o, deps)
	case so.Commit != "":
		prog := g.progress()
		deps.Progress = prog
		res, err := backup.CommitShards(ctx, deps, so.Commit)
		prog.Done()
		if err != nil {
			return err
		}
		return printVerified(ctx, g, r, res, o.Verify)
	}
	if err := backup.AbortShards(ctx, deps, so.AbortShards); err != nil {
		return err
	}
	g.printf("removed sharded backup %s\n", so.AbortShards)
	return nil
}

func runOneShard(ctx context.Context, g *GlobalOptions, o *BackupOptions, deps backup.Deps) error {
	i, n, err := parseShard(o.ShardFlags.Shard)
	if err != nil {
		return err
	}
	prog := g.progress()
	deps.Progress = prog
	res, err := backup.RunShard(ctx, deps, o.ShardFlags.BackupID, i, n, backup.ShardOptions{ScanWorkers: o.ScanWorkers, EncodeWorkers: o.EncodeWorkers})
	prog.Done()
	if err != nil {
		return err
	}
	if g.JSON {
		return writeJSON(g, res)
	}
	state := fmt.Sprintf("%d rows in %d files", res.Rows, res.Files)
	if res.AlreadyDone {
		state = "already done"
	}
	g.printf("shard %d/%d of backup %s: %s\n", i, n, res.ID, state)
	return nil
}

// checkShardStep refuses flags the step does not use: the selection and
// the encoding are the begin step's, --verify the commit's.
func (o *BackupOptions) checkShardStep() error {
	so := &o.ShardFlags
	if o.Resume || o.Init || o.Native.Mode == modeNative {
		return usageErrorf("--resume, --init and --mode native do not apply to sharded backups")
	}
	if o.Verify != "" && so.Commit == "" {
		return usageErrorf("--verify goes with --commit")
	}
	if so.Shards != 0 {
		return nil
	}
	if o.Name != "" || len(o.Collections) > 0 || len(o.Partitions) > 0 || o.AllDatabases || o.RBAC ||
		o.Database != "default" || o.Compression != "zstd" || o.Level != 3 || o.Checksum != "sha256" ||
		o.ChunkSize != backup.DefaultChunkBytes {
		return usageErrorf("the selection, --name, --rbac and the encoding flags belong to the begin step (backup --shards N); --shard, --commit and --abort-shards take them from its plan")
	}
	return nil
}

// printVerified prints a committed backup, verifying it first when mode
// is set.
func printVerified(ctx context.Context, g *GlobalOptions, r *repo.Repository, res *backup.Result, mode string) error {
	if mode == "" {
		return printBackupResult(g, res, nil)
	}
	if err := checkVerifyMode(mode); err != nil {
		return err
	}
	rep, err := verifyBackup(ctx, g, r, nil, res.Manifest, mode, 0.05, 0, "")
	if err != nil {
		return fmt.Errorf("backup %s was committed, but verifying it failed to run: %w", res.Manifest.ID, err)
	}
	if err := printBackupResult(g, res, rep); err != nil {
		return err
	}
	if !rep.OK {
		return &verify.DamagedError{BackupID: rep.BackupID, Files: failedItems(rep)}
	}
	return nil
}
