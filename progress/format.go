package progress

import (
	"fmt"
	"strings"
	"unicode"
)

// liveFields describes a running phase: the counters that apply to it, their
// rates and the ETA. Rows or bytes that a phase does not count are left out.
func liveFields(s Snapshot) []string {
	var f []string
	if s.TotalRows > 0 || s.Rows != 0 {
		f = append(f, countOf(s.Rows, s.TotalRows, HumanCount)+" rows", humanRate(s.RowsPerSec)+" rows/s")
	}
	if s.TotalBytes > 0 || s.Bytes != 0 {
		f = append(f, countOf(s.Bytes, s.TotalBytes, HumanBytes), HumanBytes(int64(s.BytesPerSec))+"/s")
	}
	return append(f, etaText(s))
}

// countOf formats "done/total", or just "done" when the total is unknown.
func countOf(done, total int64, format func(int64) string) string {
	if total <= 0 {
		return format(done)
	}
	return format(done) + "/" + format(total)
}

func etaText(s Snapshot) string {
	if !s.ETAKnown {
		return "ETA --"
	}
	return "ETA " + HumanDuration(s.ETA)
}

// summary describes an ended phase: "1,000 rows, 1.5 MiB in 12s (83 rows/s,
// 128.0 KiB/s)".
func summary(s Snapshot) string {
	var counts, rates []string
	if s.TotalRows > 0 || s.Rows != 0 {
		counts = append(counts, HumanCount(s.Rows)+" rows")
		rates = append(rates, humanRate(s.RowsPerSec)+" rows/s")
	}
	if s.TotalBytes > 0 || s.Bytes != 0 {
		counts = append(counts, HumanBytes(s.Bytes))
		rates = append(rates, HumanBytes(int64(s.BytesPerSec))+"/s")
	}
	if len(counts) == 0 {
		return "done in " + HumanDuration(s.Elapsed)
	}
	return fmt.Sprintf("%s in %s (%s)", strings.Join(counts, ", "),
		HumanDuration(s.Elapsed), strings.Join(rates, ", "))
}

// plain replaces control characters, which could move the cursor or split a
// log line, with spaces.
func plain(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}
