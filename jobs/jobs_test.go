package jobs

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/milvault/milvault/progress"
)

func openStore(t *testing.T, path string, history int) *Store {
	t.Helper()
	s, err := OpenStore(path, history)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newRunner(t *testing.T, max int, onFinish func(Job)) (*Runner, *Store) {
	t.Helper()
	s := openStore(t, filepath.Join(t.TempDir(), "jobs.db"), 0)
	t.Cleanup(func() { s.Close() })
	r, _, err := NewRunner(s, Options{MaxConcurrent: max, OnFinish: onFinish})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 0)
		defer cancel()
		r.Shutdown(ctx)
	})
	return r, s
}

// waitFinal polls until job id is final.
func waitFinal(t *testing.T, r *Runner, id string) Job {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		j, err := r.Get(id)
		if err != nil {
			t.Fatal(err)
		}
		if j.State.Final() {
			return j
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("job %s did not finish", id)
	return Job{}
}

func TestJobSucceedsWithResultAndProgress(t *testing.T) {
	finished := make(chan Job, 1)
	r, s := newRunner(t, 1, func(j Job) { finished <- j })
	j, err := r.Start(Spec{Kind: KindBackup, Policy: "p", Params: map[string]string{"collection": "docs"}},
		func(ctx context.Context, p progress.Progress) (any, error) {
			p.Phase("backup default.docs", 10, 0)
			p.Rows(10)
			p.Bytes(4096)
			return map[string]string{"backup_id": "b1"}, nil
		})
	if err != nil || j.State != StateQueued {
		t.Fatalf("Start = %+v, %v; want a queued job", j, err)
	}
	got := waitFinal(t, r, j.ID)
	if got.State != StateSucceeded || string(got.Result) != `{"backup_id":"b1"}` || got.Progress.Rows != 10 || got.Progress.Bytes != 4096 {
		t.Fatalf("finished job = %+v", got)
	}
	if string(got.Params) != `{"collection":"docs"}` || got.StartedAt.IsZero() || got.FinishedAt.Before(got.StartedAt) {
		t.Fatalf("params/times = %s %s %s", got.Params, got.StartedAt, got.FinishedAt)
	}
	if f := <-finished; f.ID != j.ID || f.State != StateSucceeded {
		t.Fatalf("OnFinish got %+v", f)
	}
	stored, err := s.Get(j.ID)
	if err != nil || stored.State != StateSucceeded {
		t.Fatalf("stored = %+v, %v", stored, err)
	}
}

func TestJobFails(t *testing.T) {
	r, _ := newRunner(t, 1, nil)
	j, _ := r.Start(Spec{Kind: KindVerify}, func(context.Context, progress.Progress) (any, error) {
		return nil, errors.New("milvus unreachable")
	})
	if got := waitFinal(t, r, j.ID); got.State != StateFailed || got.Error != "milvus unreachable" {
		t.Fatalf("job = %+v, want failed with the error", got)
	}
	p, _ := r.Start(Spec{Kind: KindVerify}, func(context.Context, progress.Progress) (any, error) { panic("boom") })
	if got := waitFinal(t, r, p.ID); got.State != StateFailed || got.Error != "job panicked: boom" {
		t.Fatalf("panicking job = %+v, want failed", got)
	}
}

// blocker returns a Func that signals it started and runs until its
// context ends, returning the context's error.
func blocker(started chan<- string, name string) Func {
	return func(ctx context.Context, p progress.Progress) (any, error) {
		started <- name
		<-ctx.Done()
		return nil, ctx.Err()
	}
}

func TestPolicyNeverOverlapsAndCancel(t *testing.T) {
	r, _ := newRunner(t, 2, nil)
	started := make(chan string, 4)
	a, err := r.Start(Spec{Kind: KindBackup, Policy: "nightly"}, blocker(started, "a"))
	if err != nil {
		t.Fatal(err)
	}
	<-started
	_, err = r.Start(Spec{Kind: KindBackup, Policy: "nightly"}, blocker(started, "b"))
	var busy *BusyError
	if !errors.As(err, &busy) || busy.JobID != a.ID {
		t.Fatalf("second start of the policy = %v, want a BusyError naming %s", err, a.ID)
	}
	if id, ok := r.Running("nightly"); !ok || id != a.ID {
		t.Fatalf("Running = %s, %v", id, ok)
	}
	if err := r.Cancel(a.ID); err != nil {
		t.Fatal(err)
	}
	if got := waitFinal(t, r, a.ID); got.State != StateCancelled {
		t.Fatalf("cancelled job = %+v", got)
	}
	var nr *NotRunningError
	if err := r.Cancel(a.ID); !errors.As(err, &nr) {
		t.Fatalf("cancel of a finished job = %v, want NotRunningError", err)
	}
	var nf *NotFoundError
	if err := r.Cancel("nope"); !errors.As(err, &nf) {
		t.Fatalf("cancel of an unknown job = %v, want NotFoundError", err)
	}
	// The policy is free again.
	if _, err := r.Start(Spec{Kind: KindBackup, Policy: "nightly"}, func(context.Context, progress.Progress) (any, error) { return nil, nil }); err != nil {
		t.Fatalf("start after cancel: %v", err)
	}
}

func TestConcurrencyLimit(t *testing.T) {
	r, _ := newRunner(t, 2, nil)
	var running, peak atomic.Int32
	release := make(chan struct{})
	var ids []string
	for i := range 5 {
		j, err := r.Start(Spec{Kind: KindVerify, Policy: fmt.Sprint("p", i)}, func(ctx context.Context, p progress.Progress) (any, error) {
			n := running.Add(1)
			for {
				old := peak.Load()
				if n <= old || peak.CompareAndSwap(old, n) {
					break
				}
			}
			<-release
			running.Add(-1)
			return nil, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, j.ID)
	}
	time.Sleep(100 * time.Millisecond)
	queued := 0
	for _, id := range ids {
		if j, _ := r.Get(id); j.State == StateQueued {
			queued++
		}
	}
	if queued != 3 {
		t.Fatalf("%d jobs queued with a limit of 2 out of 5, want 3", queued)
	}
	close(release)
	for _, id := range ids {
		waitFinal(t, r, id)
	}
	if peak.Load() != 2 {
		t.Fatalf("peak concurrency = %d, want 2", peak.Load())
	}
}

// TestRestartMarksInterrupted: a job running when the process died is
// interrupted after a restart, and the history is kept.
func TestRestartMarksInterrupted(t *testing.T) {
	path := filepath.Join(t.TempDir(), "jobs.db")
	s := openStore(t, path, 0)
	r, _, err := NewRunner(s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan string, 1)
	j, _ := r.Start(Spec{Kind: KindBackup, Policy: "p"}, blocker(started, "a"))
	<-started
	s.Close() // the process "dies": the record says running

	s2 := openStore(t, path, 0)
	defer s2.Close()
	_, interrupted, err := NewRunner(s2, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(interrupted) != 1 || interrupted[0].ID != j.ID || interrupted[0].State != StateInterrupted {
		t.Fatalf("interrupted = %+v, want job %s", interrupted, j.ID)
	}
	got, err := s2.Get(j.ID)
	if err != nil || got.State != StateInterrupted || got.Error == "" {
		t.Fatalf("record after restart = %+v, %v", got, err)
	}
}

func TestShutdownGracePeriod(t *testing.T) {
	r, _ := newRunner(t, 2, nil)
	quick, _ := r.Start(Spec{Kind: KindVerify}, func(ctx context.Context, p progress.Progress) (any, error) {
		time.Sleep(50 * time.Millisecond)
		return nil, nil
	})
	started := make(chan string, 1)
	slow, _ := r.Start(Spec{Kind: KindBackup}, blocker(started, "slow"))
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	r.Shutdown(ctx)
	if j, _ := r.Get(quick.ID); j.State != StateSucceeded {
		t.Fatalf("job within the grace period = %s, want succeeded", j.State)
	}
	if j, _ := r.Get(slow.ID); j.State != StateInterrupted {
		t.Fatalf("job beyond the grace period = %s, want interrupted", j.State)
	}
	if _, err := r.Start(Spec{Kind: KindVerify}, nil); !errors.Is(err, ErrShutdown) {
		t.Fatalf("start after shutdown = %v, want ErrShutdown", err)
	}
}

func TestStoreHistoryIsBounded(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "jobs.db"), 3)
	defer s.Close()
	base := time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC)
	for i := range 6 {
		state := StateSucceeded
		if i == 0 {
			state = StateRunning // never trimmed while open
		}
		if err := s.Put(Job{ID: newID(base.Add(time.Duration(i) * time.Second)), State: state}); err != nil {
			t.Fatal(err)
		}
	}
	js, err := s.List(nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(js) != 3 || js[len(js)-1].State != StateRunning || js[0].ID[:15] != "20260305T000005" || js[1].ID[:15] != "20260305T000004" {
		t.Fatalf("kept %d records: %+v; want the newest 2 finished and the running one", len(js), js)
	}
}
