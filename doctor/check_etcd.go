package doctor

import (
	"fmt"
	"strings"
)

const whyEtcd = "etcd holds all Milvus metadata: collections, schemas, partitions, segment lists, indexes. " +
	"Without it the object-store files cannot be found again; an etcd whose data dir is lost with the pod " +
	"means every collection is gone even if the segments still exist."

// CheckEtcd flags embedded etcd and etcd data on non-persistent storage
// (check 2, metadata half).
func CheckEtcd(in *Inputs) []Finding {
	var out []Finding
	in.milvusContainers(func(w Workload, c Container) {
		embed, ok := in.effective(c, "etcd.use.embed")
		if !ok || !isTrue(embed.Value) {
			return
		}
		dir := defaultEtcdDir
		if d, ok := in.effective(c, "etcd.data.dir"); ok {
			dir = d.Value
		}
		out = append(out, embeddedEtcdFinding(w, c, embed, place(w, c, dir, milvusWorkdir)))
	})
	if !in.hasMilvusWorkload() {
		if embed, ok := in.configValue("etcd.use.embed"); ok && isTrue(embed.Value) {
			out = append(out, Finding{Check: IDEtcd, Severity: Critical, Title: "Milvus runs embedded etcd",
				Evidence: []Evidence{ev(embed)}, Why: whyEtcd + " Embedded etcd keeps the only copy inside the Milvus process's data directory, with no replica and no snapshots.",
				Fix: "etcd:\n  use:\n    embed: false\n  endpoints:\n    - etcd-0.etcd:2379   # a 3-member etcd on persistent volumes"})
		}
	}
	in.containers(RoleEtcd, func(w Workload, c Container) {
		if pl := place(w, c, etcdDataDir(c), "/"); !pl.persistent() {
			out = append(out, volatileDataFinding(IDEtcd, "etcd", w, c, pl, whyEtcd))
		}
	})
	return append(out, helmEtcd(in)...)
}

func embeddedEtcdFinding(w Workload, c Container, embed Setting, pl placement) Finding {
	f := Finding{Check: IDEtcd, Severity: Critical, Evidence: append([]Evidence{ev(embed)}, pl.evidence(c)...),
		Title: fmt.Sprintf("%s runs embedded etcd and %s", containerLabel(w, c), pl.describe()),
		Why:   whyEtcd + " Embedded etcd keeps the only copy inside the Milvus container.",
		Fix:   "Run etcd separately (3 members on persistent volumes) and set ETCD_USE_EMBED=false, ETCD_ENDPOINTS=<etcd>:2379; at the very least mount a persistent volume at the etcd data dir:\n" + mountFix(w, c, suggestedMount(pl.Path))}
	if pl.persistent() {
		f.Severity = Warning
		f.Why = "Embedded etcd on a persistent volume survives restarts, but it is a single copy with no snapshots: " + whyEtcd
	}
	return f
}

// etcdDataDir finds an etcd container's data directory.
func etcdDataDir(c Container) string {
	if d := flagValue(c.Command, "data-dir"); d != "" {
		return d
	}
	if d, ok := c.Env.Get("ETCD_DATA_DIR"); ok {
		return d.Value
	}
	if strings.Contains(imageName(c.Image), "bitnami") {
		return "/bitnami/etcd"
	}
	return "/default.etcd"
}

// flagValue returns the value of -name/--name in args ("--x=v" or "--x v").
func flagValue(args []string, name string) string {
	for i, a := range args {
		trimmed := strings.TrimLeft(a, "-")
		if len(trimmed) == len(a) {
			continue
		}
		if k, v, ok := strings.Cut(trimmed, "="); ok && k == name {
			return v
		}
		if trimmed == name && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

// volatileDataFinding reports a stateful service whose data dir is not on a
// persistent volume.
func volatileDataFinding(id, what string, w Workload, c Container, pl placement, why string) Finding {
	return Finding{Check: id, Severity: Critical, Evidence: pl.evidence(c),
		Title: fmt.Sprintf("%s data of %s is not persistent: %s", what, containerLabel(w, c), pl.describe()),
		Why:   why, Fix: mountFix(w, c, pl.Path)}
}

// helmEtcd reads the chart's etcd subchart values.
func helmEtcd(in *Inputs) []Finding {
	var out []Finding
	for _, h := range in.Helm {
		if !h.enabled("etcd.enabled", true) || h.enabled("externalEtcd.enabled", false) {
			continue
		}
		if p, ok := h.Get("etcd.persistence.enabled"); ok && !isTrue(p.Value) {
			out = append(out, Finding{Check: IDEtcd, Severity: Critical, Title: "Helm values turn off etcd persistence",
				Evidence: []Evidence{ev(p)}, Why: whyEtcd, Fix: "etcd:\n  persistence:\n    enabled: true"})
		}
		if r, ok := h.Get("etcd.replicaCount"); ok && r.Value == "1" {
			out = append(out, Finding{Check: IDEtcd, Severity: Warning, Title: "Helm values run a single etcd member",
				Evidence: []Evidence{ev(r)}, Why: "One etcd member is one disk holding all metadata; its loss or corruption loses every collection.",
				Fix: "etcd:\n  replicaCount: 3"})
		}
	}
	return out
}
