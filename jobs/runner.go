package jobs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/milvault/milvault/errkind"
	"github.com/milvault/milvault/progress"
)

// Func is the work of a job. It runs under ctx (cancelled by Cancel or a
// shutdown), reports to p, and returns a result that is stored as JSON.
type Func func(ctx context.Context, p progress.Progress) (result any, err error)

// Spec says what job to start.
type Spec struct {
	Kind   Kind
	Policy string // "" for a job that belongs to no policy
	Params any    // stored as JSON with the job
}

// Options configure a Runner.
type Options struct {
	// MaxConcurrent bounds the jobs running at once (default 1); the others
	// wait, queued.
	MaxConcurrent int
	Now           func() time.Time // default time.Now
	// OnFinish, if set, is called with every job that reached a final
	// state, after its record was stored (metrics, notifications).
	OnFinish func(Job)
}

// ErrCancelled is the cause of a job context cancelled by Cancel.
var ErrCancelled = errors.New("cancelled on request")

// ErrShutdown is the cause of a job context cancelled by Shutdown.
var ErrShutdown = errors.New("the service is stopping")

// BusyError refuses a job for a policy that has one queued or running.
type BusyError struct{ Policy, JobID string }

// Kind classifies the error.
func (e *BusyError) Kind() errkind.Kind { return errkind.Conflict }

func (e *BusyError) Error() string {
	return fmt.Sprintf("policy %s already has job %s queued or running; a policy never overlaps itself", e.Policy, e.JobID)
}

// NotRunningError refuses to cancel a job that already finished.
type NotRunningError struct {
	ID    string
	State State
}

// Kind classifies the error.
func (e *NotRunningError) Kind() errkind.Kind { return errkind.Conflict }

func (e *NotRunningError) Error() string {
	return fmt.Sprintf("job %s is %s: only queued or running jobs can be cancelled", e.ID, e.State)
}

// Runner runs jobs and records them in a Store.
type Runner struct {
	store *Store
	opts  Options
	slots chan struct{}
	base  context.Context
	stop  context.CancelCauseFunc
	wg    sync.WaitGroup

	mu       sync.Mutex
	live     map[string]*liveJob
	policies map[string]string // policy -> id of its queued or running job
	closed   bool
}

type liveJob struct {
	job    Job // guarded by Runner.mu
	cancel context.CancelCauseFunc
	meter  *progress.Meter
}

// NewRunner returns a Runner recording into store. Records left queued or
// running by an earlier process are marked interrupted first; they are
// returned so the caller can report them.
func NewRunner(store *Store, o Options) (*Runner, []Job, error) {
	if o.MaxConcurrent <= 0 {
		o.MaxConcurrent = 1
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	interrupted, err := store.MarkInterrupted(o.Now().UTC())
	if err != nil {
		return nil, nil, err
	}
	base, stop := context.WithCancelCause(context.Background())
	return &Runner{store: store, opts: o, slots: make(chan struct{}, o.MaxConcurrent), base: base, stop: stop,
		live: map[string]*liveJob{}, policies: map[string]string{}}, interrupted, nil
}

// newID returns an id that sorts by creation time.
func newID(now time.Time) string {
	b := make([]byte, 4)
	rand.Read(b)
	return now.UTC().Format("20060102T150405.000Z") + "-" + hex.EncodeToString(b)
}

// Start records a queued job and runs fn as soon as a slot is free. It
// returns a *BusyError when s.Policy has a job queued or running.
func (r *Runner) Start(s Spec, fn Func) (Job, error) {
	params, err := json.Marshal(s.Params)
	if err != nil {
		return Job{}, fmt.Errorf("job parameters: %w", err)
	}
	now := r.opts.Now().UTC()
	j := Job{ID: newID(now), Kind: s.Kind, Policy: s.Policy, Params: params, State: StateQueued, CreatedAt: now}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return Job{}, ErrShutdown
	}
	if id, busy := r.policies[s.Policy]; busy && s.Policy != "" {
		return Job{}, &BusyError{Policy: s.Policy, JobID: id}
	}
	if err := r.store.Put(j); err != nil {
		return Job{}, err
	}
	ctx, cancel := context.WithCancelCause(r.base)
	lj := &liveJob{job: j, cancel: cancel, meter: progress.NewMeter(nil)}
	r.live[j.ID] = lj
	if s.Policy != "" {
		r.policies[s.Policy] = j.ID
	}
	r.wg.Add(1)
	go r.run(ctx, lj, fn)
	return j, nil
}

func (r *Runner) run(ctx context.Context, lj *liveJob, fn Func) {
	defer r.wg.Done()
	select {
	case r.slots <- struct{}{}:
	case <-ctx.Done():
		r.finish(lj, nil, context.Cause(ctx), true)
		return
	}
	defer func() { <-r.slots }()
	r.mu.Lock()
	lj.job.State, lj.job.StartedAt = StateRunning, r.opts.Now().UTC()
	j := lj.job
	r.mu.Unlock()
	if err := r.store.Put(j); err != nil {
		r.finish(lj, nil, err, false)
		return
	}
	res, err := r.call(ctx, fn, lj.meter)
	r.finish(lj, res, err, ctx.Err() != nil)
}

// call runs fn, turning a panic into an error so that one bad job does not
// take the service down.
func (r *Runner) call(ctx context.Context, fn Func, p progress.Progress) (res any, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("job panicked: %v", v)
		}
	}()
	defer p.Done()
	return fn(ctx, p)
}

// finish stores the final state of lj.
func (r *Runner) finish(lj *liveJob, res any, err error, stopped bool) {
	r.mu.Lock()
	j := &lj.job
	j.FinishedAt = r.opts.Now().UTC()
	j.Progress = fromSnapshot(lj.meter.Snapshot())
	switch {
	case err == nil:
		j.State = StateSucceeded
	case stopped && errors.Is(context.Cause(r.base), ErrShutdown):
		j.State, j.Error = StateInterrupted, err.Error()
	case stopped:
		j.State, j.Error = StateCancelled, err.Error()
	default:
		j.State, j.Error = StateFailed, err.Error()
	}
	if res != nil {
		if data, merr := json.Marshal(res); merr == nil {
			j.Result = data
		}
	}
	done := *j
	delete(r.live, j.ID)
	if r.policies[j.Policy] == j.ID {
		delete(r.policies, j.Policy)
	}
	r.mu.Unlock()
	lj.cancel(nil)
	_ = r.store.Put(done) // a lost record is shown as interrupted after restart
	if r.opts.OnFinish != nil {
		r.opts.OnFinish(done)
	}
}

// Cancel stops job id. A queued job is cancelled at once; a running one
// gets its context cancelled and ends as soon as its work notices (the
// library calls then remove what they wrote).
func (r *Runner) Cancel(id string) error {
	r.mu.Lock()
	lj, ok := r.live[id]
	r.mu.Unlock()
	if ok {
		lj.cancel(ErrCancelled)
		return nil
	}
	j, err := r.store.Get(id)
	if err != nil {
		return err
	}
	return &NotRunningError{ID: id, State: j.State}
}

// Get returns job id with its live progress.
func (r *Runner) Get(id string) (Job, error) {
	r.mu.Lock()
	if lj, ok := r.live[id]; ok {
		j := lj.job
		r.mu.Unlock()
		j.Progress = fromSnapshot(lj.meter.Snapshot())
		return j, nil
	}
	r.mu.Unlock()
	return r.store.Get(id)
}

// List returns the jobs, newest first, the live ones with their progress;
// match filters them (nil keeps all).
func (r *Runner) List(match func(Job) bool) ([]Job, error) {
	js, err := r.store.List(match)
	if err != nil {
		return nil, err
	}
	for i := range js {
		if !js[i].State.Final() {
			if j, err := r.Get(js[i].ID); err == nil {
				js[i] = j
			}
		}
	}
	return js, nil
}

// Running returns the id of the job policy has queued or running, if any.
func (r *Runner) Running(policy string) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	id, ok := r.policies[policy]
	return id, ok
}

// Shutdown stops taking jobs and waits for the running ones until ctx ends
// (the grace period); then it cancels them with ErrShutdown (they end
// interrupted) and waits for them to return.
func (r *Runner) Shutdown(ctx context.Context) {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	done := make(chan struct{})
	go func() { r.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		r.stop(ErrShutdown)
		<-done
	}
}
