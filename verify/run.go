package verify

import (
	"context"
	"fmt"
	"time"

	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/milvus"
	"github.com/milvault/milvault/native"
	"github.com/milvault/milvault/progress"
	"github.com/milvault/milvault/repo"
)

// Deps are the services a verification uses.
type Deps struct {
	Repo *repo.Repository
	// Milvus is optional in quick mode (without it the sampled rows are not
	// compared with the source) and required in deep mode, which restores
	// into it.
	Milvus   *milvus.Client
	Progress progress.Progress // nil means none; Run does not call Done
	Now      func() time.Time  // nil means time.Now
	// Lock, when set, is a lock on Repo (shared or exclusive) that the
	// caller holds; otherwise Run takes a shared one.
	Lock *repo.Lock
	// Storage is the object storage of Milvus: a deep verification of a
	// native backup restores it by binlog import through it (see
	// native.Loader).
	Storage *native.Storage
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

// Options configure a verification.
type Options struct {
	Mode    string  // ModeChecksum (the default), ModeQuick or ModeDeep
	Sample  float64 // quick: share of files and rows, 0 < Sample <= 1
	Seed    uint64  // quick: sampling seed; 0 picks one at random (it is reported)
	Workers int     // deep: parallel insert calls of the scratch restore
	Suffix  string  // deep: scratch collection suffix; "" picks a random one
	// LockWait is how long to wait for another operation's exclusive lock
	// on the repository; 0 fails at once.
	LockWait time.Duration
}

func (o Options) check() error {
	switch o.Mode {
	case ModeChecksum, ModeDeep:
	case ModeQuick:
		if o.Sample <= 0 || o.Sample > 1 {
			return fmt.Errorf("quick verification needs a sample between 0 and 1, not %g", o.Sample)
		}
	default:
		return fmt.Errorf("verification mode %q: use checksum, quick or deep", o.Mode)
	}
	return nil
}

// Run verifies backup m in the mode o names, under d.Lock or a shared lock
// it takes, and records the outcome in the repository as a proof (a failed
// verification is recorded too; Report.OK says which). The error is non-nil
// only when the verification could not run or its proof could not be
// stored.
func Run(ctx context.Context, d Deps, m *manifest.Manifest, o Options) (*Report, error) {
	if o.Mode == "" {
		o.Mode = ModeChecksum
	}
	if err := o.check(); err != nil {
		return nil, err
	}
	d = d.withDefaults()
	if err := checkNativeTarget(ctx, d, m, o); err != nil {
		return nil, err
	}
	if o.Mode != ModeChecksum {
		if err := d.Repo.NeedKey("verify --mode " + string(o.Mode) + " (--mode checksum needs no key)"); err != nil {
			return nil, err
		}
	}
	l, ctx, unlock, err := d.Repo.HoldBackup(ctx, d.Lock, repo.LockOptions{Operation: "verify", Wait: o.LockWait}, m.ID)
	if err != nil {
		return nil, err
	}
	defer unlock()
	d.Lock = l
	rep, err := run(ctx, d, m, o)
	if err == nil {
		err = d.Repo.RecordProof(ctx, proofOf(rep, d.Now()))
	}
	return rep, l.Stopped("verify", err)
}

// run dispatches to the verification of mode o.Mode.
func run(ctx context.Context, d Deps, m *manifest.Manifest, o Options) (*Report, error) {
	if m.IsNative() && o.Mode != ModeChecksum {
		return runNative(ctx, d, m, o)
	}
	switch o.Mode {
	case ModeQuick:
		return quick(ctx, d, m, o)
	case ModeDeep:
		return deep(ctx, d, m, o)
	}
	return checksumReport(ctx, d, m)
}

// proofOf is the proof a report leaves in the repository.
func proofOf(rep *Report, now time.Time) repo.Proof {
	p := repo.Proof{BackupID: rep.BackupID, OK: rep.OK, At: now.UTC()}
	switch rep.Mode {
	case ModeDeep:
		p.Kind, p.Summary = repo.ProofDeep, fmt.Sprintf("deep verification: %d rows compared", rep.Rows)
	case ModeQuick:
		p.Kind = repo.ProofQuick
	default:
		p.Kind = repo.ProofChecksum
	}
	if p.Summary == "" {
		p.Summary = fmt.Sprintf("%s verification: %d files, %d rows", rep.Mode, rep.Files, rep.Rows)
	}
	return p
}
