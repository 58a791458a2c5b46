package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/milvault/milvault/backup"
	"github.com/milvault/milvault/checksum"
	"github.com/milvault/milvault/config"
	"github.com/milvault/milvault/errkind"
	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/progress"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/verify"
)

// BackupOptions are the flags of `milvault backup`.
type BackupOptions struct {
	Name           string
	Database       string
	AllDatabases   bool
	Collections    []string
	Partitions     []string
	Compression    string
	Level          int
	Checksum       string
	ChunkSize      int64
	SkipSpaceCheck bool
	SkipCountCheck bool
	Verify         string
	LockWait       time.Duration
	Init           bool
	ScanWorkers    int
	EncodeWorkers  int
	Resume         bool
	Reconnect      time.Duration
	RBAC           bool
	Native         NativeOptions // --mode, --milvus-storage, ... (cmd_backup_native.go)
	ShardFlags     ShardOptions  // --shards, --shard, --commit, ... (cmd_backup_shard.go)
}

// AddFlags registers the flags.
func (o *BackupOptions) AddFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.Name, "name", "", "unique name for the backup (letters, digits, . _ -)")
	f.StringVar(&o.Database, "database", "default", "database of the collections")
	f.BoolVar(&o.AllDatabases, "all-databases", false, "back up every collection of every database")
	f.StringArrayVarP(&o.Collections, "collection", "c", nil, "collection to back up (repeatable; default: all of --database)")
	f.StringArrayVarP(&o.Partitions, "partition", "p", nil, "partition to back up (repeatable; needs one --collection)")
	f.StringVar(&o.Compression, "compression", "zstd", "data file compression: zstd or none")
	f.IntVar(&o.Level, "compression-level", 3, "zstd level, 1 (fastest) to 22 (smallest)")
	f.StringVar(&o.Checksum, "checksum", "sha256", "file checksum: sha256, blake2b or md5")
	config.SizeVar(f, &o.ChunkSize, "chunk-size", backup.DefaultChunkBytes, "target size of one data file, measured before compression (e.g. 64MiB, 1GiB)")
	f.BoolVar(&o.SkipSpaceCheck, "skip-space-check", false, "do not refuse when the free-space estimate says the backup will not fit")
	f.BoolVar(&o.SkipCountCheck, "skip-count-check", false, "do not fail when a partition's rows read differ from the server's count(*) (collections with primary keys inserted more than once)")
	f.StringVar(&o.Verify, "verify", "", "verify right after writing: --verify (checksum) or --verify=quick|deep")
	f.Lookup("verify").NoOptDefVal = "checksum"
	addLockWaitFlag(f, &o.LockWait)
	f.BoolVar(&o.RBAC, "rbac", false, "also record Milvus's users (names), roles, grants and user-role bindings (restore them with restore --rbac)")
	f.BoolVar(&o.Init, "init", false, "create the repository first when --repo holds none (for scripts; see milvault init)")
	f.BoolVar(&o.Resume, "resume", false, "finish the newest interrupted backup (same selection and options) instead of starting over: its stored files are checked and reused")
	config.DurationVar(f, &o.Reconnect, "reconnect", 0, "when Milvus goes away mid-backup, wait up to this long (e.g. 5m) for it to answer again and carry on after the last key stored (logical backups; 0: stop at once, exit 4, finish with --resume)")
	f.IntVar(&o.ScanWorkers, "scan-workers", 0, "streams reading each partition at once (0: one per query node, at most one per core)")
	f.IntVar(&o.EncodeWorkers, "encode-workers", 0, "data files of a partition encoded at once, one per core (0: one per core, at most 4; 1: one at a time); memory up to about N x (--chunk-size + 8MiB)")
	o.Native.addFlags(f)
	o.ShardFlags.addFlags(f)
}

func newBackupCommand(g *GlobalOptions) *cobra.Command {
	o := &BackupOptions{}
	cmd := &cobra.Command{
		Use:   "backup",
		Short: "Back up collections, partitions or whole databases",
		Example: `  milvault backup --collection docs --name before-migration
  milvault backup --database sales                 # every collection of a database
  milvault backup --all-databases --json
  milvault backup -c docs -p 2024_01 -p 2024_02    # some partitions`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runBackup(cmd.Context(), g, o) },
	}
	o.AddFlags(cmd)
	g.encrypt.addFlags(cmd.Flags()) // with --init: create it encrypted
	return cmd
}

func (o *BackupOptions) params() (backup.Params, error) {
	alg, err := checksum.Parse(o.Checksum)
	if err != nil {
		return backup.Params{}, usageErrorf("%v", err)
	}
	p := backup.Params{
		Name: o.Name, Database: o.Database, AllDatabases: o.AllDatabases,
		Collections: o.Collections, Partitions: o.Partitions,
		Compression: o.Compression, CompressionLevel: o.Level, Checksum: alg, ChunkBytes: o.ChunkSize,
		SkipSpaceCheck: o.SkipSpaceCheck, SkipCountCheck: o.SkipCountCheck, ScanWorkers: o.ScanWorkers, EncodeWorkers: o.EncodeWorkers, Resume: o.Resume,
		Reconnect: o.Reconnect,
	}
	if err := checkVerifyMode(o.Verify); err != nil {
		return p, err
	}
	if err := o.Native.check(); err != nil {
		return p, err
	}
	return p, p.Validate()
}

func runBackup(ctx context.Context, g *GlobalOptions, o *BackupOptions) (err error) {
	if o.ShardFlags.active() {
		return runShardStep(ctx, g, o)
	}
	p, err := o.params()
	if err != nil {
		return err
	}
	r, err := g.openRepo(ctx)
	if err != nil && !(o.Init && errkind.Of(err) == errkind.NotRepository) {
		return err
	}
	c, err := g.connect(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	created := r == nil
	if r == nil { // --init, and Milvus answered: only now create the repository
		dir, existed := localDirExisted(g.Repo)
		if r, err = g.initRepo(ctx, g.Repo); err != nil {
			return err
		}
		defer func() { // runs after the lock is released
			if err != nil {
				undoInit(context.WithoutCancel(ctx), g, r, dir, existed)
			}
		}()
	}
	var cleaned []string
	if !p.Resume { // a cleanup would remove the backup to resume
		if cleaned, err = backup.CleanUp(ctx, r, nil, func(s string) { g.warnf("%s", s) }); err != nil {
			return err
		}
	}
	l, ctx, unlock, err := g.lockRepo(ctx, r, "backup", false, o.LockWait)
	if err != nil {
		return err
	}
	defer unlock()
	prog := g.progress()
	deps := backup.Deps{Milvus: c, Repo: r, Progress: prog, ToolVersion: BuildVersion().Version, Lock: l}
	if o.RBAC {
		deps.RBAC = c
	}
	res, err := o.Native.run(ctx, g, c, deps, p)
	prog.Done()
	if err == nil || !created { // a failed backup --init removes the repository it created
		g.recordAudit(ctx, r, backupAuditEntry(g, p, res), err)
	}
	if err != nil {
		return err
	}
	for _, id := range append(cleaned, res.Cleaned...) {
		g.warnf("removed the leftovers of interrupted backup %s", id)
	}
	if o.Verify == "" {
		return printBackupResult(g, res, nil)
	}
	rep, err := verifyBackup(ctx, g, r, l, res.Manifest, o.Verify, 0.05, 0, o.Native.MilvusStorage)
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

// backupSummary is the JSON printed by `backup --json`.
type backupSummary struct {
	ID              string              `json:"id"`
	Name            string              `json:"name,omitempty"`
	Repository      string              `json:"repository"`
	Rows            int64               `json:"rows"`
	Bytes           int64               `json:"bytes"`
	Files           int                 `json:"files"`
	DurationSeconds float64             `json:"duration_seconds"`
	Snapshot        manifest.Snapshot   `json:"snapshot"`
	Collections     []collectionSummary `json:"collections"`
	Verification    *verify.Report      `json:"verification,omitempty"`
}

type collectionSummary struct {
	Database   string `json:"database"`
	Name       string `json:"name"`
	Rows       int64  `json:"rows"`
	Partitions int    `json:"partitions"`
	Indexes    int    `json:"indexes"`
	Aliases    int    `json:"aliases"`
	LoadState  string `json:"load_state"`
}

func summarize(m *manifest.Manifest) []collectionSummary {
	var out []collectionSummary
	for _, c := range m.Collections {
		out = append(out, collectionSummary{Database: c.Database, Name: c.Name, Rows: c.Rows,
			Partitions: len(c.Partitions), Indexes: len(c.Indexes), Aliases: len(c.Aliases), LoadState: c.LoadState})
	}
	return out
}

// printBackupResult prints the committed backup and, when one ran, its
// verification (inside the same JSON document with --json).
func printBackupResult(g *GlobalOptions, res *backup.Result, rep *verify.Report) error {
	m := res.Manifest
	if g.JSON {
		return writeJSON(g, backupSummary{ID: m.ID, Name: m.Name, Repository: g.repoDisplay(), Rows: m.TotalRows(),
			Bytes: m.TotalBytes(), Files: len(m.Files()), DurationSeconds: res.Duration.Seconds(),
			Snapshot: m.Snapshot, Collections: summarize(m), Verification: rep})
	}
	defer func() {
		if rep != nil {
			printVerifyReport(g, rep)
		}
	}()
	var names []string
	for _, c := range m.Collections {
		names = append(names, c.QualifiedName())
	}
	g.printf("backup %s%s committed: %s rows of %s, %s in %d files, %s\n", m.ID, nameSuffix(m.Name),
		progress.HumanCount(m.TotalRows()), strings.Join(names, ", "), progress.HumanBytes(m.TotalBytes()),
		len(m.Files()), progress.HumanDuration(res.Duration))
	return nil
}

func nameSuffix(name string) string {
	if name == "" {
		return ""
	}
	return " (" + name + ")"
}

func writeJSON(g *GlobalOptions, v any) error {
	enc := json.NewEncoder(g.stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write JSON: %w", err)
	}
	return nil
}

// checkVerifyMode refuses an unknown --verify mode before anything runs.
func checkVerifyMode(mode string) error {
	switch mode {
	case "", verify.ModeChecksum, verify.ModeQuick, verify.ModeDeep:
		return nil
	}
	return usageErrorf("--verify %q: use checksum, quick or deep", mode)
}

// localDirExisted returns the folder of a local repository location and
// whether it existed; "" for other locations.
func localDirExisted(loc string) (string, bool) {
	scheme, rest, hasScheme := strings.Cut(loc, "://")
	switch {
	case !hasScheme:
		rest = loc
	case scheme != "file":
		return "", false
	}
	_, err := os.Stat(rest)
	return rest, err == nil
}

// undoInit removes the repository that `backup --init` created for a backup
// that failed, when it holds nothing else, and the folder it lives in when
// the init created it and it is empty.
func undoInit(ctx context.Context, g *GlobalOptions, r *repo.Repository, dir string, existed bool) {
	removed, err := r.RemoveIfEmpty(ctx)
	if err != nil {
		g.warnf("the backup failed, and removing the repository it created failed too: %v", err)
		return
	}
	if removed && dir != "" && !existed {
		_ = os.Remove(dir) // only when empty
	}
}
