package service

import (
	"encoding/json"
	"slices"
	"time"

	"github.com/milvault/milvault/drill"
	"github.com/milvault/milvault/jobs"
)

// HistoryPoint is one run in a policy's history.
type HistoryPoint struct {
	JobID string    `json:"job_id"`
	At    time.Time `json:"at"` // when the run finished
	// Seconds is how long a backup run took, or the measured RTO of a drill.
	Seconds float64 `json:"seconds"`
	Bytes   int64   `json:"bytes,omitempty"`
	Rows    int64   `json:"rows,omitempty"`
	OK      bool    `json:"ok"`
}

// PolicyHistory is what the job history (this service's, job_history
// records) tells about a policy over time, oldest first: its successful
// backup runs (size, rows, duration) and its drills (RTO).
type PolicyHistory struct {
	Policy  string         `json:"policy"`
	Backups []HistoryPoint `json:"backups"`
	Drills  []HistoryPoint `json:"drills"`
}

// History returns the history of policy name from the job records.
func (s *Service) History(name string) (PolicyHistory, error) {
	if _, ok := s.config().Policies[name]; !ok {
		return PolicyHistory{}, &UnknownPolicyError{Name: name}
	}
	js, err := s.runner.List(func(j jobs.Job) bool { return j.Policy == name && j.State.Final() })
	if err != nil {
		return PolicyHistory{}, err
	}
	h := PolicyHistory{Policy: name, Backups: []HistoryPoint{}, Drills: []HistoryPoint{}}
	for _, j := range slices.Backward(js) { // List is newest first
		if p, ok := backupPoint(j); ok {
			h.Backups = append(h.Backups, p)
		}
		if p, ok := drillPoint(j); ok {
			h.Drills = append(h.Drills, p)
		}
	}
	return h, nil
}

// backupPoint is a successful backup run's point.
func backupPoint(j jobs.Job) (HistoryPoint, bool) {
	var res PolicyResult
	if j.Kind != jobs.KindBackup || j.State != jobs.StateSucceeded || json.Unmarshal(j.Result, &res) != nil {
		return HistoryPoint{}, false
	}
	return HistoryPoint{JobID: j.ID, At: j.FinishedAt, Seconds: j.Duration(j.FinishedAt).Seconds(),
		Bytes: res.Bytes, Rows: res.Rows, OK: true}, true
}

// drillPoint is a drill that measured an RTO, passed or not.
func drillPoint(j jobs.Job) (HistoryPoint, bool) {
	var rep drill.Report
	if j.Kind != jobs.KindDrill || len(j.Result) == 0 || json.Unmarshal(j.Result, &rep) != nil || rep.RTOSeconds <= 0 {
		return HistoryPoint{}, false
	}
	return HistoryPoint{JobID: j.ID, At: j.FinishedAt, Seconds: rep.RTOSeconds, OK: rep.OK}, true
}
