package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/milvault/milvault/errkind"
	"github.com/milvault/milvault/jobs"
	"github.com/milvault/milvault/progress"
	"github.com/milvault/milvault/schedule"
)

// Options are the services a Service uses.
type Options struct {
	Registry prometheus.Registerer // where the metrics go (required)
	Logger   *slog.Logger          // nil means discard
	Version  string                // recorded in manifests and build_info
	Now      func() time.Time      // nil means time.Now
}

// Service runs the policies of a configuration.
type Service struct {
	opts    Options
	metrics *Metrics
	store   *jobs.Store
	runner  *jobs.Runner

	mu      sync.Mutex
	cfg     *Config
	entries []schedule.Entry
	wake    chan struct{} // a reload or a finished job: look at the schedule again
}

// New opens the job store in cfg.StateDir and prepares the service; Run
// starts the scheduler. Jobs left running by an earlier process are
// marked interrupted and logged.
func New(cfg *Config, o Options) (*Service, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Registry == nil {
		return nil, errors.New("service: a metrics registry is required")
	}
	m, err := newMetrics(o.Registry, o.Version)
	if err != nil {
		return nil, err
	}
	dir := cfg.StateDir
	if dir == "" {
		dir = "."
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("state_dir: %w", err)
	}
	st, err := jobs.OpenStore(filepath.Join(dir, "jobs.db"), cfg.JobHistory)
	if err != nil {
		return nil, err
	}
	s := &Service{opts: o, metrics: m, store: st, cfg: cfg, wake: make(chan struct{}, 1)}
	r, interrupted, err := jobs.NewRunner(st, jobs.Options{MaxConcurrent: cfg.MaxConcurrentJobs, Now: o.Now, OnFinish: s.jobFinished})
	if err != nil {
		st.Close()
		return nil, err
	}
	s.runner = r
	s.entries = s.planEntries(cfg, nil, false)
	s.exportNextRuns()
	for _, j := range interrupted {
		o.Logger.Warn("job interrupted by the previous stop", "job", j.ID, "kind", j.Kind, "policy", j.Policy)
		m.runs.WithLabelValues(string(j.Kind), j.Policy, string(j.State)).Inc()
	}
	return s, nil
}

func (s *Service) now() time.Time { return s.opts.Now() }

func (s *Service) config() *Config {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg
}

// Jobs returns the job runner (for the API).
func (s *Service) Jobs() *jobs.Runner { return s.runner }

func (s *Service) jobFinished(j jobs.Job) {
	if j.Policy != "" && j.Kind == jobs.KindBackup {
		s.notify(j, s.metrics.failures(j.Policy))
	}
	s.metrics.jobFinished(j)
	level := slog.LevelInfo
	if j.State != jobs.StateSucceeded {
		level = slog.LevelWarn
	}
	s.opts.Logger.Log(context.Background(), level, "job finished", "job", j.ID, "kind", j.Kind, "policy", j.Policy,
		"state", j.State, "error", j.Error, "seconds", j.Duration(j.FinishedAt).Seconds())
}

// RunPolicy starts a run of policy name now. It fails with a
// *jobs.BusyError when the policy has a run queued or running.
func (s *Service) RunPolicy(name string) (jobs.Job, error) {
	return s.RunPolicyAs(name, "")
}

// RunPolicyAs is RunPolicy on behalf of principal (an API token; ""
// means the service's own schedule), whom the audit trail names.
func (s *Service) RunPolicyAs(name, principal string) (jobs.Job, error) {
	pol, ok := s.config().Policies[name]
	if !ok {
		return jobs.Job{}, &UnknownPolicyError{Name: name}
	}
	return s.runner.Start(jobs.Spec{Kind: jobs.KindBackup, Policy: name, Params: map[string]string{"policy": name}},
		func(ctx context.Context, p progress.Progress) (any, error) {
			res, err := s.runPolicy(ctx, name, pol, p, principal)
			if res == nil {
				return nil, err
			}
			return res, err
		})
}

// UnknownPolicyError reports a policy name the configuration lacks.
type UnknownPolicyError struct{ Name string }

// Kind classifies the error.
func (e *UnknownPolicyError) Kind() errkind.Kind { return errkind.NotFound }

func (e *UnknownPolicyError) Error() string { return fmt.Sprintf("no policy named %q", e.Name) }

// Run runs the runs missed while the service was down, then starts each
// policy on its schedule until ctx ends. Running jobs are left to
// Shutdown. Call RestoreMetrics first, before /metrics is served, so that a
// restart reports the repository's last success at once.
func (s *Service) Run(ctx context.Context) error {
	s.mu.Lock()
	s.entries = s.planEntries(s.cfg, nil, true)
	s.mu.Unlock()
	for {
		s.mu.Lock()
		now := s.now()
		due := schedule.Due(s.entries, now)
		schedule.Advance(s.entries, now)
		s.exportNextRuns()
		next := schedule.Earliest(s.entries)
		s.mu.Unlock()
		for _, name := range due {
			s.startScheduled(name)
		}
		wait := time.Hour
		if !next.IsZero() {
			wait = max(next.Sub(s.now()), 0)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-s.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

func (s *Service) startScheduled(entry string) {
	name, kind := splitEntry(entry)
	var j jobs.Job
	var err error
	switch kind {
	case jobs.KindDrill:
		j, err = s.RunDrill(name)
	case jobs.KindVerify:
		j, err = s.RunVerification(name)
	default:
		j, err = s.RunPolicy(name)
	}
	var busy *jobs.BusyError
	switch {
	case errors.As(err, &busy):
		s.opts.Logger.Warn("policy still running: this scheduled run is skipped", "policy", name, "job", busy.JobID)
	case err != nil:
		s.opts.Logger.Error("policy run not started", "policy", name, "error", err)
	default:
		s.opts.Logger.Info("policy run started", "policy", name, "kind", kind, "job", j.ID)
	}
}

// planEntries computes the next run of each policy (and of its drill).
// Entries whose schedule did not change keep their next run from old; at
// start-up a run missed while the service was down is due at once (when
// the policy allows it).
func (s *Service) planEntries(cfg *Config, old []schedule.Entry, startup bool) []schedule.Entry {
	now := s.now()
	var out []schedule.Entry
	for _, name := range cfg.PolicyNames() {
		pol := cfg.Policies[name]
		specs := map[jobs.Kind]string{jobs.KindBackup: pol.Schedule}
		if pol.Drill != nil {
			specs[jobs.KindDrill] = pol.Drill.Schedule
		}
		if pol.Verification != nil {
			specs[jobs.KindVerify] = pol.Verification.Schedule
		}
		for kind, spec := range specs {
			if e, ok := s.planEntry(name, kind, spec, old, startup && pol.runMissed(), now); ok {
				out = append(out, e)
			}
		}
		s.metrics.rpo.WithLabelValues(name).Set(pol.RPODuration().Seconds())
		if old == nil {
			s.metrics.failing.WithLabelValues(name).Set(float64(s.consecutiveFailures(name)))
		}
	}
	return out
}

func (s *Service) planEntry(policy string, kind jobs.Kind, spec string, old []schedule.Entry, runMissed bool, now time.Time) (schedule.Entry, bool) {
	sched, err := schedule.Parse(spec)
	if err != nil { // checked by ParseConfig; kept safe
		return schedule.Entry{}, false
	}
	name := entryName(policy, kind)
	e := schedule.Entry{Name: name, Schedule: sched, Next: sched.Next(now)}
	if i := indexOf(old, name); i >= 0 && old[i].Schedule.String() == spec {
		e.Next = old[i].Next
	}
	if runMissed {
		if _, missed := sched.Missed(s.lastRun(policy, kind), now); missed {
			s.opts.Logger.Info("running a run missed while the service was down", "policy", policy, "kind", kind)
			e.Next = now
		}
	}
	return e, true
}

// entryName names a schedule entry: the policy for its backups,
// policy:kind for its other jobs (policy names hold no colon).
func entryName(policy string, kind jobs.Kind) string {
	if kind == jobs.KindBackup {
		return policy
	}
	return policy + ":" + string(kind)
}

func splitEntry(name string) (string, jobs.Kind) {
	policy, kind, ok := strings.Cut(name, ":")
	if !ok {
		return name, jobs.KindBackup
	}
	return policy, jobs.Kind(kind)
}

func indexOf(es []schedule.Entry, name string) int {
	for i, e := range es {
		if e.Name == name {
			return i
		}
	}
	return -1
}

// lastRun is when the newest recorded run of policy was created (zero
// when none is recorded).
func (s *Service) lastRun(policy string, kind jobs.Kind) time.Time {
	js, err := s.store.List(func(j jobs.Job) bool { return j.Policy == policy && j.Kind == kind })
	if err != nil || len(js) == 0 {
		return time.Time{}
	}
	return js[0].CreatedAt
}

// consecutiveFailures counts the newest runs of policy in the job history
// that did not succeed.
func (s *Service) consecutiveFailures(policy string) int {
	js, err := s.store.List(func(j jobs.Job) bool { return j.Policy == policy && j.Kind == jobs.KindBackup && j.State.Final() })
	if err != nil {
		return 0
	}
	n := 0
	for _, j := range js {
		if j.State == jobs.StateSucceeded {
			break
		}
		n++
	}
	return n
}

// exportNextRuns sets the next-run metric; s.mu is held.
func (s *Service) exportNextRuns() {
	for _, e := range s.entries {
		if policy, kind := splitEntry(e.Name); kind == jobs.KindBackup {
			s.metrics.nextRun.WithLabelValues(policy).Set(unix(e.Next))
		}
	}
}

// Reload replaces the configuration. Running jobs go on with the policy
// they started with; removed policies stop being scheduled.
func (s *Service) Reload(cfg *Config) {
	s.mu.Lock()
	s.cfg = cfg
	old := s.entries
	s.entries = s.planEntries(cfg, old, false)
	for _, e := range old {
		if policy, kind := splitEntry(e.Name); kind == jobs.KindBackup && indexOf(s.entries, e.Name) < 0 {
			s.metrics.nextRun.DeleteLabelValues(policy)
			s.metrics.rpo.DeleteLabelValues(policy)
		}
	}
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// RestoreMetrics sets the "last success / last verified" metrics of every
// policy from its repository. An unreachable repository is logged; its
// metrics stay unset until a run succeeds.
func (s *Service) RestoreMetrics(ctx context.Context) {
	cfg := s.config()
	for _, name := range cfg.PolicyNames() {
		pol := cfg.Policies[name]
		if err := s.restorePolicy(ctx, name, pol); err != nil {
			s.opts.Logger.Warn("metrics not restored from the repository", "policy", name, "error", err)
		}
	}
}

func (s *Service) restorePolicy(ctx context.Context, name string, pol PolicyConfig) error {
	r, err := s.openRepo(ctx, pol.Repository)
	if err != nil {
		return err
	}
	backups, _, err := r.List(ctx)
	if err != nil {
		return err
	}
	proofs, err := r.Proofs(ctx)
	if err != nil {
		return err
	}
	s.metrics.restore(name, pol, backups, proofs)
	return nil
}

// Shutdown stops taking jobs, waits up to the configured grace period for
// the running ones, interrupts the rest, and closes the job store.
func (s *Service) Shutdown() error {
	ctx, cancel := context.WithTimeout(context.Background(), s.config().ShutdownGraceDuration())
	defer cancel()
	s.runner.Shutdown(ctx)
	return s.store.Close()
}
