// Package backup takes logical backups of Milvus collections into a
// repository: it captures everything needed to rebuild each collection
// (schema as the server describes it, partitions, indexes, aliases, load
// state), flushes, streams rows in primary-key order into Parquet files with
// per-file checksums, and commits the backup by writing its manifest last.
package backup

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/milvault/milvault/checksum"
	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/progress"
	"github.com/milvault/milvault/repo"
)

// DefaultChunkBytes is the target size of one data file, measured as the
// raw (uncompressed) size of the rows it holds: a file is closed after the
// row group that brings it to this size, so a compressed file is smaller.
const DefaultChunkBytes = 256 << 20

// Params says what to back up and how.
type Params struct {
	Name         string   // optional unique name
	Database     string   // database of Collections; "" means "default"
	AllDatabases bool     // every collection of every database
	Collections  []string // empty: every collection of Database
	Partitions   []string // only with exactly one collection

	Compression      string // "zstd" (default) or "none"
	CompressionLevel int    // zstd level 1-22; 0 means 3
	Checksum         checksum.Algorithm
	ChunkBytes       int64 // target data file size; 0 means DefaultChunkBytes
	// QueryBatchRows is how many rows one Query call asks for, at most
	// 16,384; 0 means about 4 MiB of raw data (BatchRows).
	QueryBatchRows int
	// ScanWorkers is how many streams read each partition at once, in key
	// ranges whose rows are written in key order; 0 means
	// milvus.AutoWorkers (one per query node, at most one per core).
	ScanWorkers int
	// EncodeWorkers is how many data files of a partition are encoded
	// (Parquet, compression, checksum) at once, each on its own core; 0
	// means DefaultEncodeWorkers, 1 encodes on one goroutine. The files
	// are the same whatever the number (where a file ends is decided
	// from the raw size of its rows before it is encoded), and they are
	// stored in key order. With more than one, each file in flight queues
	// up to its whole raw size in memory: about EncodeWorkers x
	// (ChunkBytes + 8 MiB) at most.
	EncodeWorkers int
	// SkipSpaceCheck disables the free-space estimate on local repositories.
	SkipSpaceCheck bool
	// SkipCountCheck turns off the cross-check of every partition's rows
	// read against the server's count(*) before and after its scan (see
	// RowCountError), for collections holding primary keys inserted more
	// than once, which count(*) counts once per copy.
	SkipCountCheck bool
	// SpoolDir holds each data file while it is written, before it is
	// stored (up to about ChunkBytes per file, EncodeWorkers+1 files at a
	// time). "" means the
	// repository's own directory for a local repository (the finished file
	// is then linked into place, not copied; spool files are named .tmp-*
	// and never listed), else os.TempDir().
	SpoolDir string
	// LockWait is how long to wait for another process's lock on the
	// repository (see repo.Repository.Lock); 0 fails at once.
	LockWait time.Duration
	// Resume finishes the newest interrupted backup (one killed, or one
	// that stopped with an *InterruptedError) instead of starting a new
	// one: the selection and options must be the same; its stored data
	// files are read back and checked, and each partition's scan restarts
	// after the last key stored. Run does not clean up interrupted backups
	// first when resuming.
	Resume bool
	// Reconnect is how long a logical backup waits, in all, for Milvus to
	// answer again when it goes away mid-backup (Unavailable, deadline
	// exceeded): it then carries on after the last key it stored, in the
	// same process. 0 stops at once with an *InterruptedError, for Resume.
	Reconnect time.Duration

	// keepOnError keeps a failed backup's stored files for a resume
	// whatever the error (a server restarting answers with other errors
	// for a while; see runReconnecting).
	keepOnError bool

	// ResumeID, with Resume, names the interrupted backup to finish
	// (see FindResumable) instead of the newest one (an in-process
	// reconnect resumes its own).
	ResumeID string

	// A shard of a sharded backup (shard.go) reads one key range of each
	// partition and stores its files in its own folder.
	after, until any
	shardDir     string
	// encodeFault, when set (tests), fails the encode of a partition's
	// file once it is written, given its number.
	encodeFault func(index int) error
}

// Deps are the services a backup uses.
type Deps struct {
	Milvus      Milvus
	Repo        *repo.Repository
	Progress    progress.Progress // nil means none; Run does not call Done (whoever made the sink does)
	ToolVersion string
	Now         func() time.Time // nil means time.Now
	// Lock, when set, is a lock on Repo (shared or exclusive) that the
	// caller holds (and releases); the backup runs under it, and cleans up
	// after interrupted backups only when it is exclusive. When nil, Run
	// takes a shared lock of its own (waiting up to Params.LockWait) and
	// releases it at the end.
	Lock *repo.Lock
	// Native, when set, makes the backup a native one: each collection's
	// data is stored by Native as Milvus's segment files (see NativeWriter).
	Native NativeWriter
	// RBAC, when set, makes the backup record the server's users, roles and
	// grants in its manifest (backup --rbac; see CaptureRBAC).
	RBAC RBACReader
}

// Result describes a committed backup.
type Result struct {
	Manifest *manifest.Manifest
	// Cleaned lists interrupted backups whose leftovers were removed first.
	Cleaned  []string
	Duration time.Duration
	// Resumed is the interrupted backup this run finished ("" for a new
	// one), and ReusedFiles how many data files it had stored.
	Resumed     string
	ReusedFiles int
}

// Run takes a backup. On failure nothing is committed and the files written
// so far are removed; the repository and Milvus are left as they were. It
// runs under a shared lock on the repository: deps.Lock (shared or
// exclusive), or its own (waiting up to p.LockWait), so that restores,
// verifications and other backups run alongside it while prune and delete
// wait. Its pending marker and lock keep its files safe from them. Before
// it starts it cleans up after interrupted backups (see CleanUp).
func Run(ctx context.Context, deps Deps, p Params) (*Result, error) {
	deps = deps.withDefaults()
	if err := p.Validate(); err != nil {
		return nil, err
	}
	p, _ = p.normalize()
	start := deps.Now()
	var cleaned []string
	var err error
	if !p.Resume {
		if cleaned, err = CleanUp(ctx, deps.Repo, deps.Lock, deps.Progress.Note); err != nil {
			return nil, err
		}
	}
	l, lctx, unlock, err := deps.Repo.Hold(ctx, deps.Lock, repo.LockOptions{Operation: "backup", Wait: p.LockWait})
	if err != nil {
		return nil, err
	}
	defer unlock()
	deps.Lock = l
	res, err := runReconnecting(lctx, deps, p, start)
	if err != nil && lctx.Err() != nil && ctx.Err() == nil {
		err = fmt.Errorf("backup stopped: %w", context.Cause(lctx))
	}
	if res != nil {
		res.Cleaned = cleaned
	}
	return res, err
}

func runLocked(ctx context.Context, deps Deps, p Params, start time.Time) (*Result, error) {
	var state *resumeState
	reused := 0 // counted now: the resumed run goes on to update state
	if p.Resume {
		s, err := loadResume(ctx, deps.Repo, p)
		if err != nil {
			return nil, err
		}
		state, reused = s, distinctPaths(s.storedFiles())
		deps.Progress.Note(fmt.Sprintf("resuming backup %s: %d data files already stored and checked", s.Manifest.ID, reused))
	}
	if p.Name != "" && state == nil {
		if err := deps.Repo.CheckNameFree(ctx, p.Name); err != nil {
			return nil, err
		}
	}
	targets, err := plan(ctx, deps.Milvus, p)
	if err != nil {
		return nil, err
	}
	if err := checkSpace(ctx, deps, p, targets); err != nil {
		return nil, err
	}
	m, err := run(ctx, deps, p, targets, start, state)
	if err != nil {
		return nil, err
	}
	res := &Result{Manifest: m, Duration: deps.Now().Sub(start)}
	if state != nil {
		res.Resumed, res.ReusedFiles = m.ID, reused
	}
	return res, nil
}

func (d Deps) withDefaults() Deps {
	if d.Progress == nil {
		d.Progress = progress.Nop
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	return d
}

func (p Params) normalize() (Params, error) {
	if p.Name != "" {
		if err := manifest.ValidateRef("name", p.Name); err != nil {
			return p, err
		}
	}
	if p.Database == "" {
		p.Database = "default"
	}
	if p.AllDatabases && len(p.Collections) > 0 {
		return p, errors.New("--all-databases backs up every collection: do not combine it with --collection")
	}
	if len(p.Partitions) > 0 && len(p.Collections) != 1 {
		return p, errors.New("--partition needs exactly one --collection")
	}
	if p.Compression == "" {
		p.Compression = "zstd"
	}
	if p.Compression != "zstd" && p.Compression != "none" {
		return p, fmt.Errorf("unknown compression %q: use zstd or none", p.Compression)
	}
	if p.CompressionLevel == 0 {
		p.CompressionLevel = 3
	}
	if p.Compression == "zstd" && (p.CompressionLevel < 1 || p.CompressionLevel > 22) {
		return p, fmt.Errorf("zstd level %d out of range: use 1 (fastest) to 22 (smallest)", p.CompressionLevel)
	}
	if p.Checksum == "" {
		p.Checksum = checksum.SHA256
	}
	if p.ChunkBytes == 0 {
		p.ChunkBytes = DefaultChunkBytes
	}
	if p.ChunkBytes < 64<<10 {
		return p, fmt.Errorf("chunk size %d bytes is too small: use at least 64 KiB", p.ChunkBytes)
	}
	if p.ScanWorkers < 0 || p.ScanWorkers > maxScanWorkers {
		return p, fmt.Errorf("%d scan workers out of range: use 1 to %d, or 0 for the default", p.ScanWorkers, maxScanWorkers)
	}
	if p.EncodeWorkers < 0 || p.EncodeWorkers > maxEncodeWorkers {
		return p, fmt.Errorf("%d encode workers out of range: use 1 to %d, or 0 for the default", p.EncodeWorkers, maxEncodeWorkers)
	}
	if p.QueryBatchRows < 0 || p.QueryBatchRows > maxBatchRows {
		return p, fmt.Errorf("query batch of %d rows out of range: use 1 to %d, or 0 for the default", p.QueryBatchRows, maxBatchRows)
	}
	return p, nil
}

// run writes the data and commits (from where state, when not nil, left
// off); on error it removes what it wrote, unless Milvus went away after
// data files were stored: then it keeps them for a resume and returns an
// *InterruptedError.
func run(ctx context.Context, deps Deps, p Params, targets []target, start time.Time, state *resumeState) (*manifest.Manifest, error) {
	r := deps.Repo
	m := newManifest(deps, p, start)
	jr := &journaler{r: r, j: journal{Manifest: m}}
	if state != nil {
		m, jr.j = state.Manifest, state.journal
	} else if deps.RBAC != nil {
		var err error
		if m.RBAC, err = CaptureRBAC(ctx, deps.RBAC); err != nil {
			return nil, err
		}
	}
	stop, err := r.Begin(ctx, deps.Lock, m.ID)
	if err != nil {
		return nil, err
	}
	err = writeAll(ctx, deps, p, targets, m, jr, state)
	stop()
	if err == nil {
		err = r.DeleteJournal(ctx, m.ID)
	}
	if err == nil {
		err = r.Commit(ctx, m)
	}
	if err != nil {
		return nil, keepOrAbort(ctx, r, m.ID, jr, err, p.keepOnError)
	}
	return m, nil
}

// keepOrAbort handles a failed backup: one that Milvus interrupted after it
// stored data files (with keep, one that failed in any way after it stored
// data files) is kept for a resume, any other is removed.
func keepOrAbort(ctx context.Context, r *repo.Repository, id string, jr *journaler, err error, keep bool) error {
	// The caller's context may be cancelled: clean up with a fresh one.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	if n := len((&resumeState{journal: jr.j}).storedFiles()); n > 0 && (resumable(err) || keep) && ctx.Err() == nil {
		if serr := r.Suspend(cctx, id); serr == nil {
			return &InterruptedError{ID: id, Files: n, Err: err}
		}
	}
	if aerr := r.Abort(cctx, id); aerr != nil {
		return fmt.Errorf("%w (and cleaning up the partial backup %s failed: %v; the next backup removes it)", err, id, aerr)
	}
	return err
}

func newManifest(deps Deps, p Params, start time.Time) *manifest.Manifest {
	r := deps.Repo
	m := &manifest.Manifest{
		FormatVersion: manifest.FormatVersion,
		ID:            r.NewID(),
		Name:          p.Name,
		CreatedAt:     start.UTC(),
		ToolVersion:   deps.ToolVersion,
		Milvus:        manifest.Source{Address: deps.Milvus.Address(), Version: deps.Milvus.Version()},
		Selection: manifest.Selection{AllDatabases: p.AllDatabases, Databases: []string{p.Database},
			Collections: p.Collections, Partitions: p.Partitions},
		Options: manifest.Options{Compression: p.Compression, CompressionLevel: p.CompressionLevel,
			Checksum: string(p.Checksum), ChunkBytes: p.ChunkBytes},
	}
	if p.AllDatabases {
		m.Selection.Databases = nil
	}
	return m
}

// writeAll writes every target collection that state (nil: none) does not
// hold as finished already.
func writeAll(ctx context.Context, deps Deps, p Params, targets []target, m *manifest.Manifest, jr *journaler, state *resumeState) error {
	for _, t := range targets {
		if _, ok := state.finished(t.Database, t.Collection); ok {
			continue
		}
		c, err := captureCollection(ctx, deps.Milvus, t)
		if err != nil {
			return err
		}
		if m.Snapshot.Timestamp == 0 {
			m.Snapshot = c.snapshot
		}
		jr.startCollection(t.Database, t.Collection)
		if deps.Native != nil {
			err = writeNative(ctx, deps, m, c)
		} else {
			err = writeCollection(ctx, deps, p, m, c, jr, state.partial(t.Database, t.Collection))
		}
		if err != nil {
			return fmt.Errorf("back up %s.%s: %w", t.Database, t.Collection, err)
		}
		m.Collections = append(m.Collections, c.Collection)
		if err := jr.collectionDone(ctx); err != nil {
			return err
		}
	}
	return nil
}
