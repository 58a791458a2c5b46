package doctor

import (
	"fmt"
	"sort"
	"strings"
)

// storageKeys are the settings that must agree everywhere: a component or a
// backup tool with a different bucket or root path reads or writes files no
// one else sees.
var storageKeys = []string{"minio.bucketName", "minio.rootPath", "etcd.rootPath"}

// statement is one source's value for a storage key.
type statement struct {
	Source  string
	Setting Setting
}

// CheckPaths flags bucket names and root paths that disagree between Milvus
// components, or between Milvus and a milvus-backup configuration (check 4).
func CheckPaths(in *Inputs) []Finding {
	milvus, backup := in.storageStatements()
	var out []Finding
	for _, key := range storageKeys {
		if f, bad := disagreement(key, milvus[key]); bad {
			out = append(out, f)
		}
		out = append(out, backupMismatch(key, milvus[key], backup[key])...)
	}
	return out
}

// storageStatements gathers every explicit storage setting by key, Milvus
// sources apart from backup-tool sources.
func (in *Inputs) storageStatements() (milvus, backup map[string][]statement) {
	milvus, backup = map[string][]statement{}, map[string][]statement{}
	add := func(into map[string][]statement, source string, s Settings) {
		for _, key := range storageKeys {
			if v, ok := s.Get(key); ok {
				into[key] = append(into[key], statement{Source: source, Setting: v})
			}
		}
	}
	for _, cfg := range in.allConfigs() {
		add(milvus, cfg.Source, cfg.Settings)
	}
	in.milvusContainers(func(w Workload, c Container) { add(milvus, containerLabel(w, c), c.Env) })
	for _, h := range in.Helm {
		add(milvus, h.File+" (Helm values)", helmStorage(h))
	}
	for _, b := range in.BackupConfigs {
		add(backup, b.File+" (milvus-backup)", b.Settings)
	}
	return milvus, backup
}

// helmStorage maps the chart's bucket and root path values to Milvus keys.
func helmStorage(h HelmValues) Settings {
	prefix := "minio"
	if h.enabled("externalS3.enabled", false) {
		prefix = "externalS3"
	}
	s := Settings{}
	for _, k := range []string{"bucketName", "rootPath"} {
		if v, ok := h.Get(prefix + "." + k); ok {
			v.Key = "minio." + k
			s.Set(v)
		}
	}
	return s
}

func sameValue(a, b string) bool { return strings.Trim(a, "/") == strings.Trim(b, "/") }

// distinct returns the distinct values among sts.
func distinct(sts []statement) []string {
	seen := map[string]bool{}
	var out []string
	for _, st := range sts {
		v := strings.Trim(st.Setting.Value, "/")
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	sort.Strings(out)
	return out
}

func disagreement(key string, sts []statement) (Finding, bool) {
	values := distinct(sts)
	if len(values) < 2 {
		return Finding{}, false
	}
	return Finding{Check: IDPaths, Severity: Critical,
		Title:    fmt.Sprintf("Milvus components disagree on %s: %s", key, strings.Join(values, " vs ")),
		Evidence: statementEvidence(sts),
		Why:      "Components that use different buckets or root paths write segments where the others never look: flushed data seems to vanish, and restores fail with \"no binlog to import\" or \"segment has no insert logs\".",
		Fix:      fmt.Sprintf("Set %s to one value in every component (milvus.yaml, ConfigMap, Helm values and environment overrides).", key)}, true
}

func backupMismatch(key string, milvus, backup []statement) []Finding {
	var out []Finding
	for _, b := range backup {
		for _, m := range milvus {
			if sameValue(b.Setting.Value, m.Setting.Value) {
				continue
			}
			out = append(out, Finding{Check: IDPaths, Severity: Critical,
				Title:    fmt.Sprintf("milvus-backup's %s %q differs from Milvus's %q", key, b.Setting.Value, m.Setting.Value),
				Evidence: statementEvidence([]statement{m, b}),
				Why:      "milvus-backup copies segment files by bucket and root path; with the wrong ones its backups are empty or its restores fail with \"no binlog to import\".",
				Fix:      fmt.Sprintf("In %s set %s: %s (the value Milvus uses).", b.Setting.Where.File, key, m.Setting.Value)})
			break
		}
	}
	return out
}

func statementEvidence(sts []statement) []Evidence {
	out := make([]Evidence, 0, len(sts))
	for _, st := range sts {
		e := ev(st.Setting)
		e.Value = st.Source + ": " + e.Value
		out = append(out, e)
	}
	return out
}
