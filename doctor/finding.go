// Package doctor finds the Milvus misconfigurations that lose data before
// they do: local storage or etcd on throwaway volumes, embedded etcd, public
// buckets, bucket or rootPath mismatches, missing or untested backups, and
// open access.
//
// Inputs are parsed into typed values (ParseFile, LiveFacts, Coverage), and
// every check is a pure function from those values to findings. Nothing in
// this package prints or exits; the CLI renders a Report.
package doctor

import (
	"encoding/json"
	"fmt"
	"sort"
)

// Severity ranks a finding. Higher is worse.
type Severity int

// Severities, from harmless to data-losing.
const (
	Info Severity = iota
	Warning
	Critical
)

// String returns the lowercase name of s.
func (s Severity) String() string {
	switch s {
	case Critical:
		return "critical"
	case Warning:
		return "warning"
	}
	return "info"
}

// MarshalJSON writes s as its name.
func (s Severity) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// Where locates a piece of evidence: a file and line, and the key path in it
// (or the API call that answered).
type Where struct {
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
	Path string `json:"path,omitempty"`
}

// String renders w as "file:line path".
func (w Where) String() string {
	s := w.File
	if w.Line > 0 {
		s = fmt.Sprintf("%s:%d", s, w.Line)
	}
	if w.Path != "" {
		if s != "" {
			s += " "
		}
		s += w.Path
	}
	return s
}

// Evidence is one observed fact a finding rests on.
type Evidence struct {
	Where Where  `json:"where"`
	Value string `json:"value,omitempty"`
}

// Finding is one problem (or noteworthy fact) with its proof and remedy.
type Finding struct {
	Check    string     `json:"check"`
	Severity Severity   `json:"severity"`
	Title    string     `json:"title"`
	Evidence []Evidence `json:"evidence"`
	Why      string     `json:"why"`
	Fix      string     `json:"fix,omitempty"`
}

// Report is the outcome of a doctor run.
type Report struct {
	Findings []Finding `json:"findings"`
	// Undetermined lists what the doctor could not find out, so that a
	// clean report is never mistaken for a complete one.
	Undetermined []string `json:"undetermined"`
	// NothingChecked is set when there was nothing to inspect (see
	// Params.Inspected); the verdict is then "unknown", not "clean".
	NothingChecked bool `json:"nothing_checked,omitempty"`
}

// Add appends findings.
func (r *Report) Add(fs ...Finding) { r.Findings = append(r.Findings, fs...) }

// Unknown records something that could not be determined.
func (r *Report) Unknown(format string, args ...any) {
	r.Undetermined = append(r.Undetermined, fmt.Sprintf(format, args...))
}

// Worst returns the highest severity among the findings (Info when none).
func (r *Report) Worst() Severity {
	w := Info
	for _, f := range r.Findings {
		w = max(w, f.Severity)
	}
	return w
}

// Sort orders findings worst first, then by check and title, so output is
// stable for golden files and diffs.
func (r *Report) Sort() {
	sort.SliceStable(r.Findings, func(i, j int) bool {
		a, b := r.Findings[i], r.Findings[j]
		if a.Severity != b.Severity {
			return a.Severity > b.Severity
		}
		if a.Check != b.Check {
			return a.Check < b.Check
		}
		return a.Title < b.Title
	})
}

// Verdict names the overall result: "clean", "warning", "critical", or
// "unknown" when nothing was checked.
func (r *Report) Verdict() string {
	switch r.Worst() {
	case Info:
		if r.NothingChecked {
			return "unknown"
		}
	case Critical:
		return "critical"
	case Warning:
		return "warning"
	}
	return "clean"
}
