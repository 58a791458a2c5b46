package service

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/milvault/milvault/errkind"
	"github.com/milvault/milvault/jobs"
	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/offsite"
	"github.com/milvault/milvault/progress"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/restore"
	"github.com/milvault/milvault/schedule"
)

// BackupSummary is one backup in a listing: the fields of `milvault list
// --json`.
type BackupSummary struct {
	ID          string      `json:"id"`
	Name        string      `json:"name,omitempty"`
	CreatedAt   time.Time   `json:"created_at"`
	Collections []string    `json:"collections"`
	Rows        int64       `json:"rows"`
	Bytes       int64       `json:"bytes"`
	Files       int         `json:"files"`
	Milvus      string      `json:"milvus_version"`
	LastProven  *repo.Proof `json:"last_proven,omitempty"`
}

// RepositoryNames returns the configured repositories, sorted.
func (s *Service) RepositoryNames() []string { return sortedKeys(s.config().Repositories) }

// ListBackups lists the committed backups of repository name, newest
// first as the repository lists them.
func (s *Service) ListBackups(ctx context.Context, name string) ([]BackupSummary, error) {
	r, err := s.openRepo(ctx, name)
	if err != nil {
		return nil, err
	}
	all, _, err := r.List(ctx)
	if err != nil {
		return nil, err
	}
	proofs, err := r.Proofs(ctx)
	if err != nil {
		return nil, err
	}
	out := []BackupSummary{}
	for _, m := range all {
		e := BackupSummary{ID: m.ID, Name: m.Name, CreatedAt: m.CreatedAt, Rows: m.TotalRows(), Bytes: m.TotalBytes(),
			Files: len(m.Files()), Milvus: m.Milvus.Version, Collections: []string{}}
		for _, c := range m.Collections {
			e.Collections = append(e.Collections, c.QualifiedName())
		}
		if p, ok := repo.LastSuccess(proofs[m.ID]); ok {
			p.Report = nil
			e.LastProven = &p
		}
		out = append(out, e)
	}
	return out, nil
}

// GetBackup returns the manifest of backup ref (id or name) in repository
// name: the JSON of `milvault show --json`.
func (s *Service) GetBackup(ctx context.Context, name, ref string) (*manifest.Manifest, error) {
	r, err := s.openRepo(ctx, name)
	if err != nil {
		return nil, err
	}
	return r.Find(ctx, ref)
}

// PolicyStatus is a policy as the API shows it.
type PolicyStatus struct {
	Name        string    `json:"name"`
	Repository  string    `json:"repository"`
	Schedule    string    `json:"schedule"`
	NextRun     time.Time `json:"next_run,omitzero"`
	LastSuccess time.Time `json:"last_success,omitzero"` // newest successful run (this service's history)
	LastJob     *jobs.Job `json:"last_job,omitempty"`
	RunningJob  string    `json:"running_job,omitempty"`
	RPOSeconds  float64   `json:"rpo_seconds,omitempty"`
	// RPOState is ok, violated (the newest good backup is older than the
	// RPO), unknown (no successful run recorded) or none (no RPO set).
	RPOState string `json:"rpo_state"`
}

// Policies returns the status of every policy, sorted by name.
func (s *Service) Policies() ([]PolicyStatus, error) {
	cfg := s.config()
	s.mu.Lock()
	entries := slices.Clone(s.entries)
	s.mu.Unlock()
	now := s.now()
	var out []PolicyStatus
	for _, name := range cfg.PolicyNames() {
		pol := cfg.Policies[name]
		st := PolicyStatus{Name: name, Repository: pol.Repository, Schedule: pol.Schedule, RPOSeconds: pol.RPODuration().Seconds()}
		if i := indexOf(entries, entryName(name, jobs.KindBackup)); i >= 0 {
			st.NextRun = entries[i].Next
		} else if sched, err := schedule.Parse(pol.Schedule); err == nil { // before Run
			st.NextRun = sched.Next(now)
		}
		hist, err := s.store.List(func(j jobs.Job) bool { return j.Policy == name && j.Kind == jobs.KindBackup })
		if err != nil {
			return nil, err
		}
		if len(hist) > 0 {
			st.LastJob = &hist[0]
		}
		for _, j := range hist {
			if j.State == jobs.StateSucceeded {
				st.LastSuccess = j.FinishedAt
				break
			}
		}
		st.RunningJob, _ = s.runner.Running(name)
		st.RPOState = rpoState(pol.RPODuration(), st.LastSuccess, now)
		out = append(out, st)
	}
	return out, nil
}

func rpoState(rpo time.Duration, last, now time.Time) string {
	switch {
	case rpo == 0:
		return "none"
	case last.IsZero():
		return "unknown"
	case now.Sub(last) > rpo:
		return "violated"
	}
	return "ok"
}

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
		return s.RunPolicy(req.Policy)
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
		return s.RunPrune(req.Policy)
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
		r, err := s.openRepo(ctx, req.Repository)
		if err != nil {
			return nil, err
		}
		m, err := r.Find(ctx, req.Backup)
		if err != nil {
			return nil, err
		}
		l, lctx, err := r.Lock(ctx, repo.LockOptions{Operation: "serve verify", Wait: s.config().lockWait})
		if err != nil {
			return nil, err
		}
		defer l.Unlock()
		res, err := s.verifyBackup(lctx, r, m, req.Mode, nil, p)
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
		src, err := s.openRepo(ctx, req.Repository)
		if err != nil {
			return nil, err
		}
		m, err := src.Find(ctx, req.Backup)
		if err != nil {
			return nil, err
		}
		dst, err := s.openRepo(ctx, req.To)
		if err != nil {
			return nil, err
		}
		return offsite.Copy(ctx, src, dst, m, offsite.Options{Progress: p, LockWait: s.config().lockWait})
	})
}

// Ready checks that every configured repository and Milvus answers.
func (s *Service) Ready(ctx context.Context) error {
	cfg := s.config()
	var errs []error
	for _, name := range sortedKeys(cfg.Repositories) {
		if _, err := s.openRepo(ctx, name); err != nil {
			errs = append(errs, err)
		}
	}
	for _, name := range sortedKeys(cfg.Milvus) {
		c, err := s.connect(ctx, name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		c.Close()
	}
	return errors.Join(errs...)
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
		r, err := s.openRepo(ctx, req.Repository)
		if err != nil {
			return nil, err
		}
		m, err := r.Find(ctx, req.Backup)
		if err != nil {
			return nil, err
		}
		c, err := s.connect(ctx, conn)
		if err != nil {
			return nil, err
		}
		defer c.Close()
		return restore.Run(ctx, restore.Deps{Milvus: c, Repo: r, Progress: p}, m, params)
	})
}
