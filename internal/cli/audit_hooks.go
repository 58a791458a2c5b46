package cli

import (
	"slices"

	"github.com/milvault/milvault/audit"
	"github.com/milvault/milvault/backup"
	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/restore"
	"github.com/milvault/milvault/retention"
)

// The functions below build the audit entries of the commands that write
// to Milvus or to a repository; recordAudit (cmd_audit.go) writes them.

// commonParams are the parameters every audited command records.
func (g *GlobalOptions) commonParams(extra map[string]any) map[string]any {
	p := map[string]any{"repository": g.repoDisplay()}
	for k, v := range extra {
		p[k] = v
	}
	return p
}

func backupAuditEntry(g *GlobalOptions, p backup.Params, res *backup.Result) audit.Entry {
	e := audit.Entry{Operation: audit.OpBackup, Params: g.commonParams(map[string]any{
		"milvus": g.Milvus, "name": p.Name, "database": p.Database, "all_databases": p.AllDatabases,
		"collections": p.Collections, "partitions": p.Partitions, "compression": p.Compression})}
	if res != nil && res.Manifest != nil {
		e.BackupIDs, e.Collections = []string{res.Manifest.ID}, audit.Collections(res.Manifest)
	}
	return e
}

func restoreAuditEntry(g *GlobalOptions, m *manifest.Manifest, p restore.Params, res *restore.Result) audit.Entry {
	e := audit.Entry{Operation: audit.OpRestore, BackupIDs: []string{m.ID}, Params: g.commonParams(map[string]any{
		"milvus": g.Milvus, "collections": p.Collections, "partitions": p.Partitions, "database": p.Database,
		"target": p.Target, "suffix": p.Suffix, "drop_existing": p.DropExisting})}
	if res == nil {
		e.Collections = audit.Collections(m)
		return e
	}
	for _, c := range res.Collections {
		e.Collections = append(e.Collections, c.Database+"."+c.Name)
	}
	return e
}

func deleteAuditEntry(g *GlobalOptions, m *manifest.Manifest, force bool) audit.Entry {
	return audit.Entry{Operation: audit.OpDelete, BackupIDs: []string{m.ID}, Collections: audit.Collections(m),
		Params: g.commonParams(map[string]any{"backup": m.ID, "name": m.Name, "force": force})}
}

func pruneAuditEntry(g *GlobalOptions, o *PruneOptions, plan []retention.Verdict, deleted []string) audit.Entry {
	e := audit.Entry{Operation: audit.OpPrune, BackupIDs: deleted, Params: g.commonParams(map[string]any{
		"keep_last": o.KeepLast, "keep_within": o.KeepWithin.String(), "keep_daily": o.KeepDaily, "keep_weekly": o.KeepWeekly,
		"keep_monthly": o.KeepMonthly, "min_keep": o.MinKeep, "collection": o.Collection})}
	seen := map[string]bool{}
	for _, v := range plan {
		if v.Keep || !slices.Contains(deleted, v.Manifest.ID) {
			continue
		}
		for _, c := range audit.Collections(v.Manifest) {
			if !seen[c] {
				seen[c] = true
				e.Collections = append(e.Collections, c)
			}
		}
	}
	return e
}
