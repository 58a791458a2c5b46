package doctor

import (
	"fmt"
	"path"
	"strings"
)

// Check names, stable identifiers for scripts.
const (
	IDLocalStorage = "local-storage"
	IDEtcd         = "etcd-storage"
	IDObjectStore  = "object-store"
	IDReclaim      = "reclaim-policy"
	IDPaths        = "storage-paths"
	IDPublicBucket = "public-bucket"
	IDBackups      = "backup-coverage"
	IDAccess       = "access-control"
	IDLive         = "live-server"
)

// Milvus defaults that matter for persistence.
const (
	defaultLocalPath = "/var/lib/milvus/data/"
	defaultEtcdDir   = "default.etcd"
	milvusWorkdir    = "/milvus"
)

const whyLocal = "With common.storageType local, Milvus writes every segment, index and binlog to " +
	"localStorage.path inside the pod. If that directory is not on a persistent volume, deleting or " +
	"rescheduling the pod erases every collection (the seed-000 incident: one `kubectl delete pod` lost all data)."

// CheckLocalStorage flags Milvus containers that use local storage on a
// path no persistent volume covers (check 1).
func CheckLocalStorage(in *Inputs) []Finding {
	var out []Finding
	in.milvusContainers(func(w Workload, c Container) {
		st, ok := in.effective(c, "common.storageType")
		if !ok || strings.ToLower(st.Value) != "local" {
			return
		}
		dir := defaultLocalPath
		if p, ok := in.effective(c, "localStorage.path"); ok {
			dir = p.Value
		}
		out = append(out, localStorageFinding(in, w, c, st, place(w, c, dir, milvusWorkdir)))
	})
	if !in.hasMilvusWorkload() {
		out = append(out, localStorageConfigOnly(in)...)
	}
	return append(out, helmLocalStorage(in)...)
}

func localStorageFinding(in *Inputs, w Workload, c Container, st Setting, pl placement) Finding {
	label := containerLabel(w, c)
	if pl.persistent() {
		return Finding{Check: IDLocalStorage, Severity: Info, Title: label + " uses local storage on a persistent volume",
			Evidence: append([]Evidence{ev(st)}, pl.evidence(c)...),
			Why:      "Data survives pod restarts, but there is one copy on one volume; losing that volume loses everything."}
	}
	evidence := append([]Evidence{ev(st)}, pl.evidence(c)...)
	evidence = append(evidence, strayClaims(in, w, c, pl)...)
	return Finding{Check: IDLocalStorage, Severity: Critical,
		Title:    fmt.Sprintf("%s stores all data on local storage that is not persistent: %s", label, pl.describe()),
		Evidence: evidence, Why: whyLocal,
		Fix: "Mount a PersistentVolumeClaim at the data directory:\n" + mountFix(w, c, suggestedMount(pl.Path)) +
			"\nor move the data to object storage: set common.storageType: minio (env COMMON_STORAGETYPE=minio) " +
			"with MINIO_ADDRESS / minio.address pointing at a MinIO or S3 whose own data is persistent.",
	}
}

// localStorageConfigOnly covers a bare milvus.yaml: without a manifest the
// doctor cannot see volumes, so it judges the path itself.
func localStorageConfigOnly(in *Inputs) []Finding {
	st, ok := in.configValue("common.storageType")
	if !ok || strings.ToLower(st.Value) != "local" {
		return nil
	}
	dir, ok := in.configValue("localStorage.path")
	if !ok {
		dir = Setting{Key: "localStorage.path", Value: defaultLocalPath, Where: Where{Path: "localStorage.path (default)"}}
	}
	f := Finding{Check: IDLocalStorage, Severity: Warning, Evidence: []Evidence{ev(st), ev(dir)},
		Title: "Milvus stores all data on local storage at " + dir.Value + ": one disk, one copy",
		Why:   "Local storage keeps every segment on one machine's disk; if the disk, the VM or the container filesystem goes, so does every collection.",
		Fix:   "Use object storage (common.storageType: minio, with a MinIO or S3 whose data is persistent), or make sure " + dir.Value + " is on a persistent, backed-up disk."}
	if within(dir.Value, "/tmp") || within(dir.Value, "/dev/shm") {
		f.Severity = Critical
		f.Title = "Milvus stores all data on local storage under " + path.Clean(dir.Value) + ", which is wiped on reboot"
	}
	return []Finding{f}
}

// helmLocalStorage flags the chart's standalone mode without MinIO or S3
// and with persistence turned off.
func helmLocalStorage(in *Inputs) []Finding {
	var out []Finding
	for _, h := range in.Helm {
		local := !h.enabled("cluster.enabled", true) && !h.enabled("minio.enabled", true) && !h.enabled("externalS3.enabled", false)
		p, off := h.Get("standalone.persistence.enabled")
		if local && off && !isTrue(p.Value) {
			out = append(out, Finding{Check: IDLocalStorage, Severity: Critical,
				Title:    "Helm values run standalone Milvus on local storage with standalone.persistence.enabled: false",
				Evidence: []Evidence{ev(p)}, Why: whyLocal,
				Fix: "standalone:\n  persistence:\n    enabled: true\n(or minio.enabled: true / externalS3.enabled: true)"})
		}
	}
	return out
}
