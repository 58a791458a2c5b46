package service

import (
	"context"
	"fmt"

	"github.com/milvault/milvault/audit"
	"github.com/milvault/milvault/errkind"
	"github.com/milvault/milvault/jobs"
	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/offsite"
	"github.com/milvault/milvault/progress"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/restore"
)

// JobRequest asks for a job over the API.
type JobRequest struct {
	Kind       jobs.Kind `json:"kind"`
	Policy     string    `json:"policy,omitempty"`     // backup: run this policy
	Repository string    `json:"repository,omitempty"` // verify, copy: the repository of the backup
	Backup     string    `json:"backup,omitempty"`     // verify, copy: backup id or name
	Mode       string    `json:"mode,omitempty"`       // verify: checksum or quick
	To         string    `json:"to,omitempty"`         // copy: destination repository name
	// Restore: into Milvus connection Milvus (default: the only one), the
	// collections of the backup (all when empty), under the new name
	// Target (one collection) or with Suffix appended, into Database.
	Milvus      string   `json:"milvus,omitempty"`
	Collections []string `json:"collections,omitempty"`
	Target      string   `json:"target,omitempty"`
	Suffix      string   `json:"suffix,omitempty"`
	Database    string   `json:"database,omitempty"`
	// Principal names who asked (set by the API from the request's token,
	// never read from the body), for the audit trail.
	Principal string `json:"-"`
}

// BadRequestError is a job request the service cannot run as asked.
type BadRequestError struct{ Msg string }

func (e *BadRequestError) Error() string { return e.Msg }

// Kind classifies the error.
func (e *BadRequestError) Kind() errkind.Kind { return errkind.Usage }

// StartJob starts the job req asks for.
func (s *Service) StartJob(req JobRequest) (jobs.Job, error) {
	switch req.Kind {
	case jobs.KindBackup:
		if req.Policy == "" {
			return jobs.Job{}, &BadRequestError{"a backup job needs \"policy\": the policy whose backup to take"}
		}
		return s.RunPolicyAs(req.Policy, req.Principal)
	case jobs.KindVerify:
		if req.Policy != "" && req.Repository == "" {
			return s.RunVerification(req.Policy)
		}
		return s.startVerify(req)
	case jobs.KindCopy:
		return s.startCopy(req)
	case jobs.KindRestore:
		return s.startRestore(req)
	case jobs.KindDrill, jobs.KindPrune:
		if req.Policy == "" {
			return jobs.Job{}, &BadRequestError{fmt.Sprintf("a %s job needs \"policy\": the policy whose backups to %s", req.Kind, req.Kind)}
		}
		if req.Kind == jobs.KindDrill {
			return s.RunDrill(req.Policy)
		}
		return s.RunPruneAs(req.Policy, req.Principal)
	}
	return jobs.Job{}, &BadRequestError{fmt.Sprintf("unknown job kind %q: use backup, verify, copy, restore, drill or prune", req.Kind)}
}

func (s *Service) checkRepo(name, field string) error {
	if _, ok := s.config().Repositories[name]; !ok {
		return &BadRequestError{fmt.Sprintf("%q: unknown repository %q (%s)", field, name, known(s.RepositoryNames()))}
	}
	return nil
}

func (s *Service) startVerify(req JobRequest) (jobs.Job, error) {
	if err := s.checkRepo(req.Repository, "repository"); err != nil {
		return jobs.Job{}, err
	}
	if req.Backup == "" || (req.Mode != "" && req.Mode != VerifyChecksum && req.Mode != VerifyQuick) {
		return jobs.Job{}, &BadRequestError{"a verify job needs \"backup\" and a \"mode\" of checksum (default) or quick"}
	}
	return s.runner.Start(jobs.Spec{Kind: jobs.KindVerify, Params: req}, func(ctx context.Context, p progress.Progress) (any, error) {
		r, m, err := s.openBackup(ctx, req.Repository, req.Backup)
		if err != nil {
			return nil, err
		}
		l, lctx, err := r.Lock(ctx, repo.LockOptions{Operation: "serve verify", Wait: s.config().lockWait})
		if err != nil {
			return nil, err
		}
		defer l.Unlock()
		res, err := s.verifyBackup(lctx, r, l, m, req.Mode, nil, nil, p)
		return res, l.Stopped("verify", err)
	})
}

func (s *Service) startCopy(req JobRequest) (jobs.Job, error) {
	if err := s.checkRepo(req.Repository, "repository"); err != nil {
		return jobs.Job{}, err
	}
	if err := s.checkRepo(req.To, "to"); err != nil {
		return jobs.Job{}, err
	}
	if req.Backup == "" {
		return jobs.Job{}, &BadRequestError{"a copy job needs \"backup\""}
	}
	return s.runner.Start(jobs.Spec{Kind: jobs.KindCopy, Params: req}, func(ctx context.Context, p progress.Progress) (any, error) {
		src, m, err := s.openBackup(ctx, req.Repository, req.Backup)
		if err != nil {
			return nil, err
		}
		dst, err := s.openRepo(ctx, req.To)
		if err != nil {
			return nil, err
		}
		res, err := offsite.Copy(ctx, src, dst, m, offsite.Options{Progress: p, LockWait: s.config().lockWait})
		s.audit(ctx, dst, req.Principal, audit.Entry{Operation: audit.OpCopy, BackupIDs: []string{m.ID}, Collections: audit.Collections(m),
			Params: map[string]any{"from": req.Repository, "to": req.To, "backup": req.Backup}}, err)
		return res, err
	})
}

// startRestore starts a restore job. It never replaces an existing
// collection; a failed or cancelled restore drops what it created
// (restore.Run does).
func (s *Service) startRestore(req JobRequest) (jobs.Job, error) {
	if err := s.checkRepo(req.Repository, "repository"); err != nil {
		return jobs.Job{}, err
	}
	if req.Backup == "" {
		return jobs.Job{}, &BadRequestError{"a restore job needs \"backup\""}
	}
	cfg := s.config()
	conn := req.Milvus
	if conn == "" && len(cfg.Milvus) == 1 {
		conn = sortedKeys(cfg.Milvus)[0]
	}
	if _, ok := cfg.Milvus[conn]; !ok {
		return jobs.Job{}, &BadRequestError{fmt.Sprintf("\"milvus\": unknown connection %q (%s)", conn, known(sortedKeys(cfg.Milvus)))}
	}
	params := restore.Params{Collections: req.Collections, Target: req.Target, Suffix: req.Suffix, Database: req.Database, LockWait: cfg.lockWait}
	return s.runner.Start(jobs.Spec{Kind: jobs.KindRestore, Params: req}, func(ctx context.Context, p progress.Progress) (any, error) {
		r, m, err := s.openBackup(ctx, req.Repository, req.Backup)
		if err != nil {
			return nil, err
		}
		c, err := s.connect(ctx, conn)
		if err != nil {
			return nil, err
		}
		defer c.Close()
		res, err := restore.Run(ctx, restore.Deps{Milvus: c, Repo: r, Progress: p}, m, params)
		s.audit(ctx, r, req.Principal, restoreEntry(req, m, res), err)
		return res, err
	})
}

// restoreEntry is the audit entry of a restore job.
func restoreEntry(req JobRequest, m *manifest.Manifest, res *restore.Result) audit.Entry {
	e := audit.Entry{Operation: audit.OpRestore, BackupIDs: []string{m.ID}, Params: map[string]any{"repository": req.Repository,
		"backup": req.Backup, "milvus": req.Milvus, "collections": req.Collections, "target": req.Target, "suffix": req.Suffix, "database": req.Database}}
	if res == nil {
		e.Collections = audit.Collections(m)
		return e
	}
	for _, c := range res.Collections {
		e.Collections = append(e.Collections, c.Database+"."+c.Name)
	}
	return e
}
