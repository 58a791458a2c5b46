package service

import (
	"context"
	"fmt"
	"time"

	"github.com/milvault/milvault/drill"
	"github.com/milvault/milvault/errkind"
	"github.com/milvault/milvault/jobs"
	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/milvus"
	"github.com/milvault/milvault/native"
	"github.com/milvault/milvault/progress"
	"github.com/milvault/milvault/repo"
)

// DrillFailedError reports a drill that ran but failed a check or its
// maximum RTO; the report is the job's result.
type DrillFailedError struct {
	BackupID string
	Failures []string
}

// Kind classifies the error.
func (e *DrillFailedError) Kind() errkind.Kind { return errkind.CheckFailed }

func (e *DrillFailedError) Error() string {
	return fmt.Sprintf("drill of backup %s failed: %v", e.BackupID, e.Failures)
}

// NoBackupError reports a policy with no backup to work on.
type NoBackupError struct{ Policy string }

// Kind classifies the error.
func (e *NoBackupError) Kind() errkind.Kind { return errkind.NotFound }

func (e *NoBackupError) Error() string {
	return fmt.Sprintf("policy %s has no backup in its repository yet", e.Policy)
}

// RunDrill starts a drill of the newest backup of policy name: restore it
// into scratch collections on the drill's Milvus (default: the policy's),
// check, search, measure the RTO, drop them and record the proof
// (drill.Run, as `milvault drill`).
func (s *Service) RunDrill(name string) (jobs.Job, error) {
	pol, ok := s.config().Policies[name]
	if !ok {
		return jobs.Job{}, &UnknownPolicyError{Name: name}
	}
	return s.runner.Start(jobs.Spec{Kind: jobs.KindDrill, Policy: name, Params: map[string]string{"policy": name}},
		func(ctx context.Context, p progress.Progress) (any, error) {
			rep, err := s.drill(ctx, name, pol, p)
			if rep == nil {
				return nil, err
			}
			return rep, err
		})
}

func (s *Service) drill(ctx context.Context, name string, pol PolicyConfig, p progress.Progress) (*drill.Report, error) {
	cfg := s.config()
	r, m, l, ctx, err := s.newestBackup(ctx, name, pol, "serve drill "+name)
	if err != nil {
		return nil, err
	}
	defer l.Unlock()
	conn, o := cfg.milvusFor(pol), drill.Options{LockWait: cfg.lockWait}
	storage := pol.Backup.MilvusStorage
	if d := pol.Drill; d != nil {
		o.MaxRTO = d.maxRTO
		if d.Milvus != "" && d.Milvus != conn {
			conn, storage = d.Milvus, ""
		}
		storage = firstNonEmpty(d.MilvusStorage, storage)
	}
	st, err := targetStorage(ctx, m, storage)
	if err != nil {
		return nil, err
	}
	c, err := s.connect(ctx, conn)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	rep, err := drill.Run(ctx, drill.Deps{Repo: r, Milvus: c, Progress: p, Lock: l, Storage: st}, m, o)
	if rep == nil {
		return nil, err
	}
	s.metrics.drilled(name, pol, m, rep, o.MaxRTO)
	if err == nil && !rep.OK {
		err = &DrillFailedError{BackupID: m.ID, Failures: rep.Failures}
	}
	return rep, err
}

// newestBackup opens the policy's repository, takes a shared lock for op
// and finds the policy's newest backup under it, so that no prune deletes
// that backup between the lookup and the reads. The caller unlocks l.
func (s *Service) newestBackup(ctx context.Context, name string, pol PolicyConfig, op string) (*repo.Repository, *manifest.Manifest, *repo.Lock, context.Context, error) {
	r, err := s.openRepo(ctx, pol.Repository)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	l, lctx, err := r.Lock(ctx, repo.LockOptions{Operation: op, Wait: s.config().lockWait})
	if err != nil {
		return nil, nil, nil, nil, err
	}
	m, err := newestOf(lctx, r, name, pol)
	if err != nil {
		l.Unlock()
		return nil, nil, nil, nil, err
	}
	return r, m, l, lctx, nil
}

// newestOf finds the newest backup of policy name in r.
func newestOf(ctx context.Context, r *repo.Repository, name string, pol PolicyConfig) (*manifest.Manifest, error) {
	all, _, err := r.List(ctx)
	if err != nil {
		return nil, err
	}
	var newest *manifest.Manifest
	for _, m := range all {
		if selects(pol, m) && (newest == nil || m.CreatedAt.After(newest.CreatedAt)) {
			newest = m
		}
	}
	if newest == nil {
		return nil, &NoBackupError{Policy: name}
	}
	return newest, nil
}

// PruneResult is the result of a prune job.
type PruneResult struct {
	Deleted []string `json:"deleted"`
	// CaptureSegments counts the capture log segments deleted.
	CaptureSegments int `json:"capture_segments"`
}

// RunPrune starts a prune of the backups of policy name by its retention
// rules (each selection judged on its own), under the repository's
// exclusive lock.
func (s *Service) RunPrune(name string) (jobs.Job, error) {
	return s.RunPruneAs(name, "")
}

// RunPruneAs is RunPrune on behalf of principal (see RunPolicyAs).
func (s *Service) RunPruneAs(name, principal string) (jobs.Job, error) {
	pol, ok := s.config().Policies[name]
	if !ok {
		return jobs.Job{}, &UnknownPolicyError{Name: name}
	}
	if rp, err := pol.Retention.policy(); err != nil || rp.Empty() {
		return jobs.Job{}, &BadRequestError{fmt.Sprintf("policy %s has no retention rules: nothing would be pruned", name)}
	}
	return s.runner.Start(jobs.Spec{Kind: jobs.KindPrune, Policy: name, Params: map[string]string{"policy": name}},
		func(ctx context.Context, p progress.Progress) (any, error) {
			r, err := s.openRepo(ctx, pol.Repository)
			if err != nil {
				return nil, err
			}
			l, lctx, err := r.Lock(ctx, repo.LockOptions{Exclusive: true, Operation: "serve prune " + name, Wait: s.config().lockWait})
			if err != nil {
				return nil, err
			}
			defer l.Unlock()
			deleted, err := pruneSelected(lctx, r, l, pol, s.now())
			if len(deleted) > 0 || err != nil {
				s.audit(lctx, r, principal, pruneEntry(name, deleted), err)
			}
			res := &PruneResult{Deleted: deleted}
			if err == nil {
				res.CaptureSegments, err = pruneCaptureLog(lctx, r, l, pol.Retention, s.now())
			}
			return res, l.Stopped("prune", err)
		})
}

// pruneSelected applies the policy's retention to every backup it selects.
func pruneSelected(ctx context.Context, r *repo.Repository, l *repo.Lock, pol PolicyConfig, now time.Time) ([]string, error) {
	all, err := listAll(ctx, r)
	if err != nil {
		return nil, err
	}
	var selected []*manifest.Manifest
	for _, m := range all {
		if selects(pol, m) {
			selected = append(selected, m)
		}
	}
	return pruneBackups(ctx, r, l, pol.Retention, selected, now, "")
}

// RunVerification starts a verification of the newest backup of policy
// name with the mode of its verification schedule (checksum when it has
// none); the proof is recorded in the repository.
func (s *Service) RunVerification(name string) (jobs.Job, error) {
	pol, ok := s.config().Policies[name]
	if !ok {
		return jobs.Job{}, &UnknownPolicyError{Name: name}
	}
	mode := VerifyChecksum
	if pol.Verification != nil {
		mode = pol.Verification.Mode
	}
	return s.runner.Start(jobs.Spec{Kind: jobs.KindVerify, Policy: name, Params: map[string]string{"policy": name, "mode": mode}},
		func(ctx context.Context, p progress.Progress) (any, error) {
			res, err := s.verifyNewest(ctx, name, pol, mode, p)
			if res == nil {
				return nil, err
			}
			return res, err
		})
}

func (s *Service) verifyNewest(ctx context.Context, name string, pol PolicyConfig, mode string, p progress.Progress) (*VerifyResult, error) {
	r, m, l, lctx, err := s.newestBackup(ctx, name, pol, "serve verify "+name)
	if err != nil {
		return nil, err
	}
	defer l.Unlock()
	var c *milvus.Client
	var st *native.Storage
	if mode != VerifyChecksum { // quick compares with the source, deep restores
		if c, err = s.connect(lctx, s.config().milvusFor(pol)); err != nil {
			return nil, err
		}
		defer c.Close()
	}
	if mode == VerifyDeep {
		if st, err = targetStorage(lctx, m, pol.Backup.MilvusStorage); err != nil {
			return nil, err
		}
	}
	res, err := s.verifyBackup(lctx, r, l, m, mode, c, st, p)
	if res != nil && res.OK {
		s.metrics.restoreBackup(name, pol, m, []repo.Proof{{OK: true, At: s.now()}})
	}
	return res, l.Stopped("verify", err)
}

// targetStorage opens the storage a native backup m is drilled or
// deep-verified through; nil for a logical backup or when none is
// configured (the drill or verification then refuses m with advice).
func targetStorage(ctx context.Context, m *manifest.Manifest, url string) (*native.Storage, error) {
	if !m.IsNative() || url == "" {
		return nil, nil
	}
	return native.OpenStorage(ctx, url)
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
