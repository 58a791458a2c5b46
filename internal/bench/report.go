package main

import (
	"fmt"
	"strings"
)

// render formats one row count's results as markdown: a table of steps,
// the ratios issue 5 asks for, and the profile's top entries.
func render(r *result) string {
	var b strings.Builder
	if r.backupBytes > 0 {
		fmt.Fprintf(&b, "\n%d rows; raw data %.1f MB (ids, vectors, scalars, string and JSON payloads); backup on disk %.1f MB (%.2f × raw).\n",
			r.rows, mb(r.rawBytes), mb(r.backupBytes), float64(r.backupBytes)/float64(r.rawBytes))
	} else {
		fmt.Fprintf(&b, "\n%d rows; raw data %.1f MB (ids, vectors, scalars, string and JSON payloads).\n", r.rows, mb(r.rawBytes))
	}
	b.WriteString("\n| step | s | rows/s | MB/s | peak RSS MiB | client CPU s | server CPU s |\n|---|---:|---:|---:|---:|---:|---:|\n")
	for _, name := range r.order {
		s := r.steps[name]
		rss := "–"
		if s.rss > 0 {
			rss = fmt.Sprintf("%.1f", float64(s.rss)/1024)
		}
		fmt.Fprintf(&b, "| %s | %.1f | %.0f | %.1f | %s | %s | %s |\n", s.name, s.secs, float64(s.rows)/s.secs, mb(s.bytes)/s.secs, rss, cpuText(s.cpu), cpuText(s.serverCPU))
	}
	if _, ok := r.steps[stepBackup]; !ok { // -encryption-only or -encode-only
		b.WriteString("\n" + renderEncryption(r, r.rounds) + renderEncode(r, r.rounds, r.encodeWorkers))
		return b.String()
	}
	b.WriteString("\nRatios (rate of milvault / rate of the baseline, same run):\n\n")
	ratio := func(label, a, base string) {
		fmt.Fprintf(&b, "- %s: %.2f\n", label, r.steps[base].secs/r.steps[a].secs)
	}
	ratio("backup / raw query drain", stepBackup, stepQuery)
	for k := 2; k <= r.rounds; k++ {
		ratio(fmt.Sprintf("backup / raw query drain, round %d", k), roundName(stepBackup, k), roundName(stepQuery, k))
	}
	ratio("restore --no-indexes --no-load / raw insert drain (Insert RPCs)", stepRestoreRaw, stepInsert)
	ratio("restore --no-indexes --no-load / raw insert drain incl. flush", stepRestoreRaw, stepInsertF)
	ratio("full restore / raw insert drain incl. flush", stepRestore, stepInsertF)
	if _, ok := r.steps[stepRestoreBulk]; ok {
		ratio("restore --bulk-import / restore with Insert calls (both --no-indexes --no-load)", stepRestoreBulk, stepRestoreRaw)
		ratio("restore --bulk-import --no-indexes --no-load / raw insert drain incl. flush", stepRestoreBulk, stepInsertF)
	} else {
		b.WriteString("- restore --bulk-import: not measured (the server has no bulk import)\n")
	}
	b.WriteString(renderEncryption(r, r.rounds))
	b.WriteString(renderEncode(r, r.rounds, r.encodeWorkers))
	rd, vf := r.steps[stepRead], r.steps[stepVerify]
	fmt.Fprintf(&b, "- verify / sequential read (MB/s): %.2f\n", (mb(vf.bytes)/vf.secs)/(mb(rd.bytes)/rd.secs))
	if r.profileTop != "" {
		fmt.Fprintf(&b, "\nCPU profile of the same backup run in-process through the backup library (%.1f s wall), top 10 functions (by cumulative time without the wrapper frames every sample passes through: `main.*`, `runtime.main`, `runtime.goexit`, `backup.Run`/`run`/`runLocked`/`writeAll`):\n\n```\n%s\n```\n",
			r.profileSecs, r.profileTop)
	}
	return b.String()
}

func mb(n int64) float64 { return float64(n) / 1e6 }

// cpuText formats CPU seconds; unknown (-1) and unmeasured (0) are "–".
func cpuText(secs float64) string {
	if secs <= 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f", secs)
}
