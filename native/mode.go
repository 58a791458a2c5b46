package native

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/milvault/milvault/backup"
	"github.com/milvault/milvault/errkind"
	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/milvus"
	"github.com/milvault/milvault/repo"
)

// Backup modes (backup --mode, a service policy's backup.mode).
const (
	ModeLogical = "logical" // rows read through queries, Parquet files
	ModeNative  = "native"  // Milvus's segment files (Backup)
	ModeAuto    = "auto"    // native when it can run, else logical
)

// ModeOptions choose how BackupInMode takes a backup.
type ModeOptions struct {
	// Mode is ModeLogical (also when empty), ModeNative or ModeAuto.
	Mode string
	// Storage is Milvus's object storage (see OpenStorage).
	Storage string
	// MetricsURL is Milvus's metrics/management URL used to pause garbage
	// collection: empty means http://<Milvus host>:9091, "none" no pause.
	MetricsURL string
	// GCPause is the length of one pause (0: DefaultGCPause).
	GCPause time.Duration
}

// CheckMode refuses an unknown mode.
func CheckMode(mode string) error {
	switch mode {
	case "", ModeLogical, ModeNative, ModeAuto:
		return nil
	}
	return errkind.New(errkind.Usage, "backup mode %q: use logical, native or auto", mode)
}

// ModeResult is a backup taken by BackupInMode.
type ModeResult struct {
	*Result
	// Mode is the mode the backup was taken in (ModeLogical or ModeNative).
	Mode string
	// Why says why ModeAuto chose Mode (empty for an explicit mode).
	Why string
	// ResumedFiles counts the segment files of a native backup that an
	// interrupted native run (killed, failed or cancelled) had stored and
	// this one referenced instead of copying them again: how it resumed.
	ResumedFiles int
}

// BackupInMode takes the backup p selects in o.Mode: a logical one through
// backup.Run, a native one through Backup (deps.Storage and deps.GC are
// set from o). ModeAuto takes a native backup when the repository, the
// server and the storage allow it, and a logical one otherwise; a native
// backup that cannot run is an error.
func BackupInMode(ctx context.Context, deps Deps, o ModeOptions, p backup.Params) (*ModeResult, error) {
	if err := CheckMode(o.Mode); err != nil {
		return nil, err
	}
	st, why, err := chooseStorage(ctx, deps, o)
	if err != nil {
		return nil, err
	}
	if st == nil {
		br, err := backup.Run(ctx, backup.Deps{Milvus: deps.Milvus, Repo: deps.Repo, Progress: deps.Progress,
			ToolVersion: deps.ToolVersion, Lock: deps.Lock, RBAC: deps.RBAC}, p)
		if err != nil {
			return nil, err
		}
		return &ModeResult{Result: &Result{Result: br}, Mode: ModeLogical, Why: why}, nil
	}
	deps.Storage, deps.GC, deps.GCPause = st, o.GCPauser(deps.Milvus.Address()), o.GCPause
	left, err := leftFiles(ctx, deps.Repo)
	if err != nil {
		return nil, err
	}
	res, err := Backup(ctx, deps, p)
	if err != nil {
		return nil, err
	}
	return &ModeResult{Result: res, Mode: ModeNative, Why: why, ResumedFiles: countIn(res.Manifest, left)}, nil
}

// leftFiles returns the stored segment files that interrupted native runs
// left: recorded by RememberSource, referenced by no committed backup, and
// still in the repository (a hint may outlive its file).
func leftFiles(ctx context.Context, r *repo.Repository) (map[string]bool, error) {
	hints, err := r.KnownSources(ctx)
	if err != nil || len(hints) == 0 {
		return nil, err
	}
	committed, err := ReuseIndex(ctx, r)
	if err != nil {
		return nil, err
	}
	inBackup := map[string]bool{}
	for _, f := range committed {
		inBackup[f.Path] = true
	}
	left := map[string]bool{}
	for _, f := range hints {
		if inBackup[f.Path] || left[f.Path] {
			continue
		}
		if fi, err := r.StatFile(ctx, f.Path); err == nil && fi.Size == f.Size {
			left[f.Path] = true
		}
	}
	return left, nil
}

// countIn counts the distinct segment files of m in set.
func countIn(m *manifest.Manifest, set map[string]bool) int {
	seen := map[string]bool{}
	for _, c := range m.Collections {
		for _, s := range c.Segments {
			for _, b := range s.Binlogs {
				if set[b.File.Path] {
					seen[b.File.Path] = true
				}
			}
		}
	}
	return len(seen)
}

// chooseStorage opens Milvus's storage for a native backup, or returns nil
// and (for ModeAuto) why not for a logical one.
func chooseStorage(ctx context.Context, deps Deps, o ModeOptions) (*Storage, string, error) {
	if o.Mode == "" || o.Mode == ModeLogical {
		return nil, "", nil
	}
	if err := CheckRepository(deps.Repo); err != nil {
		if o.Mode == ModeNative {
			return nil, "", err
		}
		return nil, "the repository is encrypted and no key was given (native backups need it)", nil
	}
	st, err := openReachable(ctx, deps.Milvus, o.Storage)
	if err == nil {
		return st, why(o, "Milvus storage "+st.Store.Location()+" is reachable"), nil
	}
	if o.Mode == ModeNative {
		return nil, "", err
	}
	return nil, err.Error(), nil
}

func why(o ModeOptions, s string) string {
	if o.Mode != ModeAuto {
		return ""
	}
	return s
}

// openReachable opens url when the server supports native backups and the
// storage answers a listing.
func openReachable(ctx context.Context, c Milvus, url string) (*Storage, error) {
	if err := CheckServer(c.Version()); err != nil {
		return nil, err
	}
	st, err := OpenStorage(ctx, url)
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

// GCPauser is the garbage-collection API of o.MetricsURL for the Milvus at
// milvusAddress, or nil when o.MetricsURL is "none".
func (o ModeOptions) GCPauser(milvusAddress string) *GCPauser {
	switch o.MetricsURL {
	case "none":
		return nil
	case "":
		a, err := milvus.ParseAddress(milvusAddress)
		if err != nil {
			return nil
		}
		return &GCPauser{URL: "http://" + net.JoinHostPort(a.Host, "9091")}
	}
	return &GCPauser{URL: o.MetricsURL}
}
