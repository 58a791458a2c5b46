package doctor

import (
	"fmt"
	"io"
	"strings"
)

// WriteText renders r for people.
func WriteText(w io.Writer, r *Report) error {
	pw := &errWriter{w: w}
	pw.printf("milvault doctor: %s (%s)\n", strings.ToUpper(r.Verdict()), countSummary(r))
	for _, f := range r.Findings {
		writeFinding(pw, f)
	}
	if len(r.Undetermined) > 0 {
		pw.printf("\nCould not determine:\n")
		for _, u := range r.Undetermined {
			pw.printf("  - %s\n", u)
		}
	}
	return pw.err
}

func writeFinding(pw *errWriter, f Finding) {
	pw.printf("\n%s [%s] %s\n", strings.ToUpper(f.Severity.String()), f.Check, f.Title)
	for _, e := range f.Evidence {
		pw.printf("  evidence: %s: %s\n", e.Where, e.Value)
	}
	pw.printf("  why: %s\n", f.Why)
	if f.Fix != "" {
		pw.printf("  fix:\n%s\n", indent(f.Fix, "    "))
	}
}

func countSummary(r *Report) string {
	n := map[Severity]int{}
	for _, f := range r.Findings {
		n[f.Severity]++
	}
	return fmt.Sprintf("%d critical, %d warning, %d info", n[Critical], n[Warning], n[Info])
}

func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix)
}

// errWriter keeps the first write error so rendering code stays linear.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}
