package doctor

import (
	"fmt"
	"strings"
)

const whyMinIO = "MinIO holds every segment, binlog and index file Milvus has written. If its data " +
	"directory goes with the pod or container, the metadata in etcd points at files that no longer exist."

// CheckObjectStore flags MinIO data on non-persistent storage and
// single-node MinIO (check 2, data half).
func CheckObjectStore(in *Inputs) []Finding {
	var out []Finding
	in.containers(RoleMinIO, func(w Workload, c Container) {
		dirs, distributed := minioDataDirs(c)
		for _, d := range dirs {
			if pl := place(w, c, d, "/"); !pl.persistent() {
				out = append(out, volatileDataFinding(IDObjectStore, "MinIO", w, c, pl, whyMinIO))
			}
		}
		if !distributed && w.Replicas <= 1 {
			out = append(out, singleMinIO(c.Where, containerLabel(w, c)))
		}
	})
	return append(out, helmMinIO(in)...)
}

// minioDataDirs reads the local drive paths from `minio server ...` and
// whether the server is distributed (URLs or {1...n} expansions).
func minioDataDirs(c Container) (dirs []string, distributed bool) {
	args := strings.Fields(strings.Join(c.Command, " "))
	for i, a := range args {
		if a == "server" {
			args = args[i+1:]
			break
		}
	}
	for _, a := range args {
		switch {
		case strings.HasPrefix(a, "-") || strings.HasPrefix(a, ":"):
		case strings.Contains(a, "...") || strings.Contains(a, "://"):
			distributed = true
		case strings.HasPrefix(a, "/"):
			dirs = append(dirs, a)
		}
	}
	if len(dirs) == 0 && !distributed {
		dirs = []string{minioDefaultDir(c)}
	}
	return dirs, distributed
}

func minioDefaultDir(c Container) string {
	if strings.Contains(imageName(c.Image), "bitnami") {
		return "/bitnami/minio/data"
	}
	if d, ok := c.Env.Get("MINIO_VOLUMES"); ok {
		return d.Value
	}
	return "/data"
}

func singleMinIO(where Where, label string) Finding {
	return Finding{Check: IDObjectStore, Severity: Warning,
		Title:    fmt.Sprintf("%s is a single-node MinIO without redundancy", label),
		Evidence: []Evidence{{Where: where, Value: "one server, one drive set"}},
		Why:      "One MinIO server keeps one copy of every segment: a lost disk or node loses the data even though etcd still lists it.",
		Fix:      "Run MinIO distributed (4+ drives with erasure coding, e.g. Helm minio.mode: distributed) or use a managed S3, and keep milvault backups outside it."}
}

// helmMinIO reads the chart's MinIO subchart values.
func helmMinIO(in *Inputs) []Finding {
	var out []Finding
	for _, h := range in.Helm {
		if !h.enabled("minio.enabled", true) || h.enabled("externalS3.enabled", false) {
			continue
		}
		if p, ok := h.Get("minio.persistence.enabled"); ok && !isTrue(p.Value) {
			out = append(out, Finding{Check: IDObjectStore, Severity: Critical, Title: "Helm values turn off MinIO persistence",
				Evidence: []Evidence{ev(p)}, Why: whyMinIO, Fix: "minio:\n  persistence:\n    enabled: true"})
		}
		if m, ok := h.Get("minio.mode"); ok && m.Value == "standalone" {
			f := singleMinIO(m.Where, "the chart's MinIO (minio.mode: standalone)")
			f.Evidence = []Evidence{ev(m)}
			f.Fix = "minio:\n  mode: distributed"
			out = append(out, f)
		}
	}
	return out
}

// CheckReclaim flags PersistentVolumes and StorageClasses whose reclaim
// policy deletes the data when the claim is deleted.
func CheckReclaim(in *Inputs) []Finding {
	var out []Finding
	for _, r := range in.Reclaim {
		if r.Policy != "" && r.Policy != "Delete" {
			continue
		}
		value := "reclaimPolicy " + r.Policy
		if r.Policy == "" {
			value = "no reclaimPolicy (defaults to Delete)"
		}
		out = append(out, Finding{Check: IDReclaim, Severity: Warning,
			Title:    r.Object + " deletes its volumes' data when the claim is deleted",
			Evidence: []Evidence{{Where: r.Where, Value: value}},
			Why:      "With reclaimPolicy Delete, `helm uninstall` or deleting a PVC destroys the underlying disk: etcd or MinIO data cannot be recovered afterwards.",
			Fix:      reclaimFix(r)})
	}
	return out
}

func reclaimFix(r ReclaimPolicy) string {
	if strings.HasPrefix(r.Object, "StorageClass") {
		return "reclaimPolicy: Retain   # in a StorageClass used for Milvus, etcd and MinIO volumes"
	}
	return fmt.Sprintf("kubectl patch pv %s -p '{\"spec\":{\"persistentVolumeReclaimPolicy\":\"Retain\"}}'", r.Name)
}
