package native

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/milvault/milvault/backup"
	"github.com/milvault/milvault/errkind"
	"github.com/milvault/milvault/progress"
	"github.com/milvault/milvault/repo"
)

// Milvus is what a native backup asks of the server.
type Milvus interface {
	backup.Milvus
	SegmentLister
}

// DefaultGCPause is how long one garbage-collection pause lasts; a running
// backup renews it every third of that.
const DefaultGCPause = 10 * time.Minute

// Deps are the services a native backup uses.
type Deps struct {
	Milvus      Milvus
	Repo        *repo.Repository
	Storage     *Storage
	GC          *GCPauser         // nil: garbage collection is not paused
	GCPause     time.Duration     // 0 means DefaultGCPause
	Progress    progress.Progress // nil means none
	ToolVersion string
	Lock        *repo.Lock // see backup.Deps.Lock
	// RBAC, when set, records users, roles and grants (see backup.Deps.RBAC).
	RBAC backup.RBACReader
}

// Result describes a committed native backup.
type Result struct {
	*backup.Result
	Stats Stats
	// GC says how garbage collection was handled: "paused", or why not.
	GC string
}

// Backup takes a native backup of the collections p selects (p's
// compression, checksum and chunk settings do not apply: segment files are
// stored as Milvus wrote them, with SHA-256 digests). Garbage collection is
// paused for the duration when deps.GC is set and the server allows it,
// and resumed on every way out.
func Backup(ctx context.Context, deps Deps, p backup.Params) (*Result, error) {
	if deps.Storage == nil {
		return nil, errors.New("a native backup needs Milvus's storage (--milvus-storage)")
	}
	if err := CheckRepository(deps.Repo); err != nil {
		return nil, err
	}
	prog := deps.Progress
	if prog == nil {
		prog = progress.Nop
	}
	reuse, err := ReuseIndex(ctx, deps.Repo)
	if err != nil {
		return nil, err
	}
	hints, err := deps.Repo.KnownSources(ctx)
	if err != nil {
		return nil, err
	}
	res := &Result{}
	release := pauseGC(ctx, deps, prog, res)
	defer release()
	w := &Writer{Milvus: deps.Milvus, Storage: deps.Storage, Repo: deps.Repo, Progress: prog, SpoolDir: p.SpoolDir, Reuse: reuse, Hints: hints}
	br, err := backup.Run(ctx, backup.Deps{Milvus: deps.Milvus, Repo: deps.Repo, Progress: prog,
		ToolVersion: deps.ToolVersion, Lock: deps.Lock, Native: w, RBAC: deps.RBAC}, p)
	res.Result, res.Stats = br, w.Stats()
	if err != nil {
		return nil, err
	}
	return res, nil
}

// pauseGC pauses garbage collection when it can and records how in res.
func pauseGC(ctx context.Context, deps Deps, prog progress.Progress, res *Result) func() {
	if deps.GC == nil {
		res.GC = "not paused (no metrics URL given)"
		return func() {}
	}
	ttl := deps.GCPause
	if ttl <= 0 {
		ttl = DefaultGCPause
	}
	release, err := deps.GC.Hold(ctx, ttl, prog.Note)
	if err != nil {
		res.GC = "not paused: " + err.Error()
		prog.Note(fmt.Sprintf("Milvus garbage collection is not paused (%v); segment files dropped by compaction stay for dataCoord.gc.dropTolerance, and a file that disappears fails the backup", err))
		return func() {}
	}
	res.GC = "paused"
	return release
}

// CheckRepository refuses a repository native backups cannot go to: an
// encrypted one opened without its key (a write-only host). Segment files
// are named there by a keyed digest of their content (so that names do not
// let anyone confirm a known file) and deduplicated against earlier
// backups' manifests, and both need the repository's key.
func CheckRepository(r *repo.Repository) error {
	if r.Encrypted() && !r.Unlocked() {
		return errkind.New(errkind.Key, "a native backup into an encrypted repository needs its key (segment files are named and deduplicated with it); give --identity-file, --password-file or MILVAULT_PASSWORD, or use --mode logical, which a write-only host can take")
	}
	return nil
}
