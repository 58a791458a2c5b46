package retention

import (
	"time"

	"github.com/milvault/milvault/manifest"
)

// Verdict is one backup's fate in a prune plan.
type Verdict struct {
	Manifest *manifest.Manifest
	Group    string // the backup's collection set; groups are judged separately
	Keep     bool
	Reasons  []string // why it is kept
}

// Plan applies p to the backups ms, or to those that hold collection
// ("name" or "database.name") when it is not empty. Backups of the same
// collection set are judged together. It decides only; deleting is the
// caller's. Verdicts are newest first per group, as Apply returns them.
func Plan(p Policy, ms []*manifest.Manifest, collection string, now time.Time) []Verdict {
	byID := map[string]*manifest.Manifest{}
	var bs []Backup
	for _, m := range ms {
		if collection != "" && !m.Contains(collection) {
			continue
		}
		byID[m.ID] = m
		bs = append(bs, Backup{ID: m.ID, CreatedAt: m.CreatedAt, Group: m.CollectionSet()})
	}
	var out []Verdict
	for _, d := range Apply(p, bs, now) {
		out = append(out, Verdict{Manifest: byID[d.Backup.ID], Group: d.Backup.Group, Keep: d.Keep, Reasons: d.Reasons})
	}
	return out
}

// Freed returns the bytes the plan's removals free.
func Freed(vs []Verdict) int64 {
	var n int64
	for _, v := range vs {
		if !v.Keep {
			n += v.Manifest.TotalBytes()
		}
	}
	return n
}
