package service

import (
	"context"
	"fmt"
	"time"

	"github.com/milvault/milvault/audit"
	"github.com/milvault/milvault/backup"
	"github.com/milvault/milvault/checksum"
	"github.com/milvault/milvault/config"
	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/milvus"
	"github.com/milvault/milvault/native"
	"github.com/milvault/milvault/offsite"
	"github.com/milvault/milvault/progress"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/retention"
	"github.com/milvault/milvault/verify"
)

// PolicyResult is the result of one policy run, stored with its job.
type PolicyResult struct {
	BackupID string `json:"backup_id"`
	// Mode is the backup's mode (logical or native), and ModeReason why
	// mode auto chose it.
	Mode       string `json:"mode"`
	ModeReason string `json:"mode_reason,omitempty"`
	// Resumed says which interrupted backup this run finished, if any.
	Resumed      string        `json:"resumed,omitempty"`
	Native       *NativeStats  `json:"native,omitempty"`
	Rows         int64         `json:"rows"`
	Bytes        int64         `json:"bytes"`
	Collections  []string      `json:"collections"`
	Verification *VerifyResult `json:"verification,omitempty"`
	Pruned       []string      `json:"pruned"`
	// PrunedCapture counts the capture log segments the prune deleted.
	PrunedCapture int          `json:"pruned_capture_segments"`
	Copies        []CopyResult `json:"copies,omitempty"`
}

// VerifyResult summarizes the verification of a backup.
type VerifyResult struct {
	Mode  string `json:"mode"`
	OK    bool   `json:"ok"`
	Files int    `json:"files"`
	Rows  int64  `json:"rows"`
}

// CopyResult summarizes one offsite copy.
type CopyResult struct {
	Repository string `json:"repository"`
	BackupID   string `json:"backup_id"`
	Copied     int    `json:"copied_files"`
	Bytes      int64  `json:"copied_bytes"`
}

// runPolicy is one run of policy name: backup, then verify, prune and copy,
// all under one exclusive lock on the policy's repository, so that no other
// milvault process prunes or deletes in between.
func (s *Service) runPolicy(ctx context.Context, name string, pol PolicyConfig, p progress.Progress, principal string) (*PolicyResult, error) {
	cfg := s.config()
	r, err := s.openRepo(ctx, pol.Repository)
	if err != nil {
		return nil, err
	}
	l, lctx, err := r.Lock(ctx, repo.LockOptions{Exclusive: true, Operation: "serve policy " + name, Wait: cfg.lockWait})
	if err != nil {
		return nil, err
	}
	defer l.Unlock()
	res, err := s.policySteps(lctx, r, l, name, pol, p, principal)
	return res, l.Stopped("policy "+name, err)
}

func (s *Service) policySteps(ctx context.Context, r *repo.Repository, l *repo.Lock, name string, pol PolicyConfig, p progress.Progress, principal string) (*PolicyResult, error) {
	c, err := s.connect(ctx, s.config().milvusFor(pol))
	if err != nil {
		return nil, err
	}
	defer c.Close()
	b, err := s.takeBackup(ctx, r, l, c, pol, p)
	var br *backup.Result
	if b != nil {
		br = b.Result.Result
	}
	s.audit(ctx, r, principal, backupEntry(name, br), err)
	if err != nil {
		return nil, err
	}
	m := br.Manifest
	res := &PolicyResult{BackupID: m.ID, Mode: b.Mode, ModeReason: b.Why, Rows: m.TotalRows(), Bytes: m.TotalBytes(), Pruned: []string{}}
	res.Resumed, res.Native = resumeNote(b), nativeStats(b)
	for _, col := range m.Collections {
		res.Collections = append(res.Collections, col.QualifiedName())
	}
	s.metrics.backupCommitted(name, m)
	if res.Verification, err = s.verifyBackup(ctx, r, l, m, pol.Verify, c, nil, p); err != nil {
		return res, err
	}
	s.metrics.backupGood(name, m, res.Verification)
	res.Pruned, err = prune(ctx, r, l, pol.Retention, m, s.now())
	if len(res.Pruned) > 0 || err != nil {
		s.audit(ctx, r, principal, pruneEntry(name, res.Pruned), err)
	}
	if err != nil {
		return res, err
	}
	if res.PrunedCapture, err = pruneCaptureLog(ctx, r, l, pol.Retention, s.now()); err != nil {
		return res, err
	}
	for _, to := range pol.CopyTo {
		cr, err := s.copyTo(ctx, r, l, m, to, p, principal)
		if err != nil {
			return res, err
		}
		res.Copies = append(res.Copies, cr)
	}
	return res, nil
}

// NativeStats are the file counts of a native backup.
type NativeStats struct {
	Files       int64  `json:"files"`
	Bytes       int64  `json:"bytes"`
	Stored      int64  `json:"stored_files"`
	StoredBytes int64  `json:"stored_bytes"`
	Reused      int64  `json:"reused_files"` // referenced without reading them again
	GC          string `json:"gc"`
}

// takeBackup takes the policy's backup in its mode under the held lock l,
// finishing the policy's interrupted logical backup when there is one
// (backup.FindResumable). An interrupted native backup needs no such step:
// the files it stored are referenced by the next run (package native).
func (s *Service) takeBackup(ctx context.Context, r *repo.Repository, l *repo.Lock, c *milvus.Client, pol PolicyConfig, p progress.Progress) (*native.ModeResult, error) {
	params, err := backupParams(pol)
	if err != nil {
		return nil, err
	}
	if pol.Backup.Mode == "" || pol.Backup.Mode == native.ModeLogical {
		if params.ResumeID, err = backup.FindResumable(ctx, r, params); err != nil {
			return nil, err
		}
		params.Resume = params.ResumeID != ""
	}
	b := pol.Backup
	return native.BackupInMode(ctx, native.Deps{Milvus: c, Repo: r, Progress: p, ToolVersion: s.opts.Version, Lock: l},
		native.ModeOptions{Mode: b.Mode, Storage: b.MilvusStorage, MetricsURL: b.MilvusMetrics, GCPause: b.gcPause}, params)
}

// resumeNote says which interrupted backup b finished ("" for a new one).
func resumeNote(b *native.ModeResult) string {
	switch {
	case b.Result.Result.Resumed != "":
		return fmt.Sprintf("resumed backup %s, reused %d files", b.Result.Result.Resumed, b.Result.Result.ReusedFiles)
	case b.ResumedFiles > 0:
		return fmt.Sprintf("resumed an interrupted native backup, reused %d segment files it had stored", b.ResumedFiles)
	}
	return ""
}

// nativeStats are b's file counts when it is a native backup.
func nativeStats(b *native.ModeResult) *NativeStats {
	if b.Mode != native.ModeNative {
		return nil
	}
	st := b.Stats
	return &NativeStats{Files: st.Files, Bytes: st.Bytes, Stored: st.Stored, StoredBytes: st.StoredBytes, Reused: st.Reused, GC: b.GC}
}

func backupParams(pol PolicyConfig) (backup.Params, error) {
	alg, err := checksum.Parse(pol.Backup.Checksum)
	if err != nil {
		return backup.Params{}, err
	}
	var chunk int64
	if pol.Backup.ChunkSize != "" {
		if chunk, err = config.ParseSize(pol.Backup.ChunkSize); err != nil {
			return backup.Params{}, err
		}
	}
	return backup.Params{Database: pol.Database, AllDatabases: pol.AllDatabases, Collections: pol.Collections,
		Partitions: pol.Partitions, Compression: pol.Backup.Compression, CompressionLevel: pol.Backup.CompressionLevel,
		Checksum: alg, ChunkBytes: chunk, EncodeWorkers: pol.Backup.EncodeWorkers,
		SkipCountCheck: pol.Backup.SkipCountCheck, ScanWorkers: pol.Backup.ScanWorkers}, nil
}

// verifyBackup verifies m in mode (verify.Run, as `milvault verify`, which
// records the proof, failed or not) under the held lock l; a damaged
// backup is an error.
// A deep verification of a native backup restores it through st, the
// storage of c.
func (s *Service) verifyBackup(ctx context.Context, r *repo.Repository, l *repo.Lock, m *manifest.Manifest, mode string, c *milvus.Client, st *native.Storage, p progress.Progress) (*VerifyResult, error) {
	if mode == VerifyNone {
		return nil, nil
	}
	rep, err := verify.Run(ctx, verify.Deps{Repo: r, Milvus: c, Progress: p, Lock: l, Storage: st}, m,
		verify.Options{Mode: mode, Sample: 0.05, LockWait: s.config().lockWait})
	if err != nil {
		return nil, fmt.Errorf("verify backup %s: %w", m.ID, err)
	}
	vr := &VerifyResult{Mode: rep.Mode, OK: rep.OK, Files: rep.Files, Rows: rep.Rows}
	if !rep.OK {
		return vr, &verify.DamagedError{BackupID: m.ID, Files: rep.Damaged}
	}
	return vr, nil
}

// prune applies the policy's retention to the backups of the same
// selection as m (never m itself), under the held exclusive lock.
func prune(ctx context.Context, r *repo.Repository, l *repo.Lock, rc RetentionConfig, m *manifest.Manifest, now time.Time) ([]string, error) {
	all, err := listAll(ctx, r)
	if err != nil {
		return nil, err
	}
	var same []*manifest.Manifest
	for _, b := range all {
		if b.CollectionSet() == m.CollectionSet() {
			same = append(same, b)
		}
	}
	return pruneBackups(ctx, r, l, rc, same, now, m.ID)
}

// listAll lists the repository's backups, refusing when a manifest is
// unreadable (a prune must not judge without it).
func listAll(ctx context.Context, r *repo.Repository) ([]*manifest.Manifest, error) {
	all, problems, err := r.List(ctx)
	if err != nil {
		return nil, err
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("prune refuses to run while %d manifest(s) are unreadable (first: %v)", len(problems), problems[0])
	}
	return all, nil
}

// pruneBackups deletes the backups that the retention rules do not keep
// (retention.Plan, as `milvault prune`: each selection judged on its own);
// keep is never deleted.
func pruneBackups(ctx context.Context, r *repo.Repository, l *repo.Lock, rc RetentionConfig, backups []*manifest.Manifest, now time.Time, keep string) ([]string, error) {
	pol, err := rc.policy()
	if err != nil || pol.Empty() {
		return []string{}, err
	}
	deleted := []string{}
	plan, err := retention.HoldLocked(ctx, r, retention.Plan(pol, backups, "", now))
	if err != nil {
		return deleted, err
	}
	for _, v := range plan {
		if v.Keep || v.Manifest.ID == keep {
			continue
		}
		if err := r.Delete(ctx, l, v.Manifest.ID); err != nil {
			return deleted, fmt.Errorf("prune stopped after deleting %d backups: %w", len(deleted), err)
		}
		deleted = append(deleted, v.Manifest.ID)
	}
	return deleted, nil
}

// pruneCaptureLog deletes the capture log segments that no backup left in
// r needs (retention.PruneCapture, as `milvault prune`), once the policy
// prunes at all; it returns how many it deleted. An encrypted repository
// whose key the service lacks keeps its log.
func pruneCaptureLog(ctx context.Context, r *repo.Repository, l *repo.Lock, rc RetentionConfig, now time.Time) (int, error) {
	pol, err := rc.policy()
	if err != nil || pol.Empty() || !r.Unlocked() {
		return 0, err
	}
	keep, err := rc.keepCapture()
	if err != nil {
		return 0, err
	}
	all, err := listAll(ctx, r)
	if err != nil {
		return 0, err
	}
	res, err := retention.PruneCapture(ctx, r, l, all, retention.CaptureOptions{KeepWithin: keep, Now: now})
	if err != nil {
		return 0, fmt.Errorf("prune the capture log: %w", err)
	}
	return len(res.Segments), nil
}

// copyTo copies m to the configured repository to (which must exist).
func (s *Service) copyTo(ctx context.Context, src *repo.Repository, l *repo.Lock, m *manifest.Manifest, to string, p progress.Progress, principal string) (CopyResult, error) {
	dst, err := s.openRepo(ctx, to)
	if err != nil {
		return CopyResult{}, err
	}
	res, err := offsite.Copy(ctx, src, dst, m, offsite.Options{Progress: p, LockWait: s.config().lockWait, SrcLock: l})
	s.audit(ctx, dst, principal, audit.Entry{Operation: audit.OpCopy, BackupIDs: []string{m.ID}, Collections: audit.Collections(m),
		Params: map[string]any{"from": src.Location(), "to": to, "backup": m.ID}}, err)
	if err != nil {
		return CopyResult{}, fmt.Errorf("copy %s to %s: %w", m.ID, to, err)
	}
	return CopyResult{Repository: to, BackupID: m.ID, Copied: res.Copied, Bytes: res.Bytes}, nil
}

// pruneEntry is the audit entry of a policy's prune.
func pruneEntry(policy string, deleted []string) audit.Entry {
	return audit.Entry{Operation: audit.OpPrune, BackupIDs: deleted, Params: map[string]any{"policy": policy}}
}
