// Package jobs runs the work of `milvault serve` as jobs: every backup,
// verification, prune, copy, restore or drill, scheduled or asked for over
// the API, gets an id, a state, live progress and a result, and its record
// survives restarts in an embedded store (bbolt). The Runner bounds how many
// jobs run at once, never lets a policy overlap itself, and cancels any
// running job on request.
package jobs

import (
	"encoding/json"
	"time"

	"github.com/milvault/milvault/progress"
)

// Kind is what a job does.
type Kind string

// Job kinds.
const (
	KindBackup  Kind = "backup"
	KindVerify  Kind = "verify"
	KindPrune   Kind = "prune"
	KindCopy    Kind = "copy"
	KindRestore Kind = "restore"
	KindDrill   Kind = "drill"
)

// State is where a job is in its life.
type State string

// Job states. Succeeded, failed, cancelled and interrupted are final.
const (
	StateQueued    State = "queued"
	StateRunning   State = "running"
	StateSucceeded State = "succeeded"
	StateFailed    State = "failed"
	StateCancelled State = "cancelled"
	// StateInterrupted marks a job that was queued or running when the
	// service stopped without finishing it (a crash, kill -9).
	StateInterrupted State = "interrupted"
)

// Final reports whether s is a state a job never leaves.
func (s State) Final() bool {
	return s == StateSucceeded || s == StateFailed || s == StateCancelled || s == StateInterrupted
}

// Progress is a job's live progress: the current phase's counters, rate
// and ETA, from the progress events of the library call it runs.
type Progress struct {
	Phase       string  `json:"phase,omitempty"`
	Rows        int64   `json:"rows"`
	TotalRows   int64   `json:"total_rows,omitempty"`
	Bytes       int64   `json:"bytes"`
	TotalBytes  int64   `json:"total_bytes,omitempty"`
	RowsPerSec  float64 `json:"rows_per_second,omitempty"`
	BytesPerSec float64 `json:"bytes_per_second,omitempty"`
	ETASeconds  float64 `json:"eta_seconds,omitempty"`
}

func fromSnapshot(s progress.Snapshot) Progress {
	p := Progress{Phase: s.Phase, Rows: s.Rows, TotalRows: max(0, s.TotalRows), Bytes: s.Bytes,
		TotalBytes: max(0, s.TotalBytes), RowsPerSec: s.RowsPerSec, BytesPerSec: s.BytesPerSec}
	if s.ETAKnown && !s.Ended {
		p.ETASeconds = s.ETA.Seconds()
	}
	return p
}

// Job is the record of one run.
type Job struct {
	ID         string          `json:"id"`
	Kind       Kind            `json:"kind"`
	Policy     string          `json:"policy,omitempty"`
	Params     json.RawMessage `json:"params,omitempty"`
	State      State           `json:"state"`
	Progress   Progress        `json:"progress"`
	CreatedAt  time.Time       `json:"created_at"`
	StartedAt  time.Time       `json:"started_at,omitzero"`
	FinishedAt time.Time       `json:"finished_at,omitzero"`
	Error      string          `json:"error,omitempty"`
	Result     json.RawMessage `json:"result,omitempty"`
}

// Duration is how long the job ran (so far, for a running job).
func (j Job) Duration(now time.Time) time.Duration {
	switch {
	case j.StartedAt.IsZero():
		return 0
	case j.FinishedAt.IsZero():
		return now.Sub(j.StartedAt)
	}
	return j.FinishedAt.Sub(j.StartedAt)
}
