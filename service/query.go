package service

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/milvault/milvault/jobs"
	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/schedule"
)

// BackupSummary is one backup in a listing: the fields of `milvault list
// --json`.
type BackupSummary = repo.BackupSummary

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
		out = append(out, repo.Summarize(m, proofs[m.ID]))
	}
	return out, nil
}

// GetBackup returns the manifest of backup ref (id or name) in repository
// name: the JSON of `milvault show --json`.
func (s *Service) GetBackup(ctx context.Context, name, ref string) (*manifest.Manifest, error) {
	_, m, err := s.openBackup(ctx, name, ref)
	return m, err
}

// openBackup opens repository name and finds backup ref (id or name) in it.
func (s *Service) openBackup(ctx context.Context, name, ref string) (*repo.Repository, *manifest.Manifest, error) {
	r, err := s.openRepo(ctx, name)
	if err != nil {
		return nil, nil, err
	}
	m, err := r.Find(ctx, ref)
	if err != nil {
		return nil, nil, err
	}
	return r, m, nil
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
