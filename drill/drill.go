// Package drill proves that backups restore: a disaster-recovery drill
// restores a backup into scratch collections, measures the time until they
// are loaded and searchable (the RTO), checks row counts and sample
// searches, and cleans up. (Deep verification, which restores the same way
// and compares every row with the backup, is verify.Run.)
package drill

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/milvus"
	"github.com/milvault/milvault/native"
	"github.com/milvault/milvault/progress"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/restore"
)

// Deps are the services a drill uses. Milvus is the target server (the
// source's or another one).
type Deps struct {
	Repo     *repo.Repository
	Milvus   *milvus.Client
	Progress progress.Progress
	Now      func() time.Time
	// Lock, when set, is a lock on Repo (shared or exclusive) that the
	// caller holds; otherwise Run and Deep take a shared one.
	Lock *repo.Lock
	// Storage is the target Milvus's object storage. A native backup is
	// drilled by binlog import through it (see native.Loader); without
	// it, or on a target without binlog import, a native backup is
	// refused with the advice to convert it first.
	Storage *native.Storage
}

// Options configure a drill.
type Options struct {
	MaxRTO  time.Duration // 0: no limit
	Samples int           // sample searches per searchable vector index; 0 means 10
	Workers int           // parallel inserts
	Suffix  string        // scratch name suffix; "" picks "_drill_<random>" (see restore.Scratch)
	// LockWait is how long to wait for another operation's exclusive lock
	// on the repository; 0 fails at once.
	LockWait time.Duration
}

// Report is the outcome of a drill; it is also stored in the repository.
type Report struct {
	BackupID string `json:"backup_id"`
	// Method is how the data was loaded (restore.MethodInsert, ...;
	// restore.MethodBinlogImport for a native backup).
	Method        string             `json:"method,omitempty"`
	Target        string             `json:"target_milvus"`
	StartedAt     time.Time          `json:"started_at"`
	RTOSeconds    float64            `json:"rto_seconds"`
	MaxRTOSeconds float64            `json:"max_rto_seconds,omitempty"`
	OK            bool               `json:"ok"`
	Failures      []string           `json:"failures,omitempty"`
	Collections   []CollectionResult `json:"collections"`
}

// CollectionResult is one drilled collection.
type CollectionResult struct {
	Source       string `json:"source"`
	Scratch      string `json:"scratch"`
	Rows         int64  `json:"rows"`
	ExpectedRows int64  `json:"expected_rows"`
	Searches     int    `json:"sample_searches"`
	// SearchHits are the sample searches that passed: found their own
	// row, or scored like the backup (sparse) or the source (BM25).
	SearchHits    int    `json:"sample_search_hits"`
	SearchSkipped string `json:"search_skipped,omitempty"`
	// Mismatches are the sample searches whose scores differ from those
	// computed from the backup files (sparse) or given by the source
	// collection (BM25); any of them fails the drill.
	Mismatches []string `json:"search_mismatches,omitempty"`
}

// minHitRate is the share of sample searches that must find their own row
// among the top 10 (indexes are approximate).
const minHitRate = 0.8

// Run performs a drill of backup m and records it in the repository.
func Run(ctx context.Context, d Deps, m *manifest.Manifest, o Options) (*Report, error) {
	d, o = d.withDefaults(), o.withDefaults()
	if err := d.Repo.NeedKey("a drill"); err != nil {
		return nil, err
	}
	if err := checkTarget(ctx, d, m); err != nil {
		return nil, err
	}
	ctx, unlock, err := d.hold(ctx, o, "drill", m.ID)
	if err != nil {
		return nil, err
	}
	defer unlock()
	rep := &Report{BackupID: m.ID, Target: d.Milvus.Address(), StartedAt: d.Now().UTC(), MaxRTOSeconds: o.MaxRTO.Seconds()}
	res, cleanup, err := restoreScratch(ctx, d, m, o, restore.LoadAlways)
	defer cleanup()
	rep.RTOSeconds = d.Now().Sub(rep.StartedAt).Seconds()
	if res != nil && len(res.Collections) > 0 {
		rep.Method = res.Collections[0].Method
	}
	if err != nil {
		rep.Failures = append(rep.Failures, "restore failed: "+err.Error())
	} else {
		checkRestored(ctx, d, m, o, res, rep)
	}
	if o.MaxRTO > 0 && rep.RTOSeconds > o.MaxRTO.Seconds() {
		rep.Failures = append(rep.Failures, fmt.Sprintf("RTO %.1fs exceeds the maximum %s", rep.RTOSeconds, o.MaxRTO))
	}
	rep.OK = len(rep.Failures) == 0
	return rep, d.Lock.Stopped("drill", record(ctx, d.Repo, rep))
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

// hold sets d.Lock to the lock the operation on backup id runs under: the
// caller's, or a shared one taken here and released by unlock.
func (d *Deps) hold(ctx context.Context, o Options, op, id string) (context.Context, func(), error) {
	l, lctx, unlock, err := d.Repo.HoldBackup(ctx, d.Lock, repo.LockOptions{Operation: op, Wait: o.LockWait}, id)
	if err != nil {
		return nil, nil, err
	}
	d.Lock = l
	return lctx, unlock, nil
}

func (o Options) withDefaults() Options {
	if o.Samples <= 0 {
		o.Samples = 10
	}
	return o
}

// restoreScratch restores every collection of m under its name plus the
// suffix; drop removes them (also after a failure) and is always safe.
func restoreScratch(ctx context.Context, d Deps, m *manifest.Manifest, o Options, load string) (*restore.Result, func(), error) {
	return restore.Scratch(ctx, restore.Deps{Milvus: d.Milvus, Repo: d.Repo, Progress: d.Progress, Now: d.Now, Lock: d.Lock, Native: d.loader(m)}, m,
		restore.Params{Suffix: o.Suffix, Load: load, Workers: o.Workers})
}

func record(ctx context.Context, r *repo.Repository, rep *Report) error {
	data, _ := json.Marshal(rep)
	summary := fmt.Sprintf("drill on %s: RTO %.1fs", rep.Target, rep.RTOSeconds)
	if !rep.OK {
		summary += fmt.Sprintf(", %d failure(s)", len(rep.Failures))
	}
	return r.RecordProof(ctx, repo.Proof{BackupID: rep.BackupID, Kind: repo.ProofDrill, OK: rep.OK,
		Summary: summary, RTOSeconds: rep.RTOSeconds, Report: data})
}
