package doctor

import (
	"fmt"
	"path"
	"strings"
)

// placement says where a data directory of a container lives.
type placement struct {
	Path    string
	Mounted bool
	Mount   Mount
	Volume  Volume
}

// place finds the volume holding directory p of container c. Relative paths
// are taken from workdir.
func place(w Workload, c Container, p, workdir string) placement {
	if !path.IsAbs(p) {
		p = path.Join(workdir, p)
	}
	pl := placement{Path: p}
	m, ok := coveringMount(c, p)
	if !ok {
		return pl
	}
	pl.Mounted, pl.Mount = true, m
	pl.Volume, ok = w.Volumes[m.Volume]
	if !ok { // a mount of an undeclared volume: Kubernetes would reject it
		pl.Volume = Volume{Name: m.Volume, Kind: OtherVolume}
	}
	return pl
}

// persistent reports whether the directory outlives the pod or container.
func (pl placement) persistent() bool { return pl.Mounted && pl.Volume.Kind.Persistent() }

// describe says in words where the directory is.
func (pl placement) describe() string {
	switch {
	case !pl.Mounted:
		return fmt.Sprintf("%s is on the container's own filesystem (no volume mounted there)", pl.Path)
	case pl.Volume.Kind == Claim:
		return fmt.Sprintf("%s is on PersistentVolumeClaim %s (volume %s)", pl.Path, pl.Volume.ClaimName, pl.Volume.Name)
	}
	return fmt.Sprintf("%s is on %s volume %s mounted at %s", pl.Path, pl.Volume.Kind, pl.Volume.Name, pl.Mount.Path)
}

// evidence lists the mount and volume behind the placement.
func (pl placement) evidence(c Container) []Evidence {
	if !pl.Mounted {
		return []Evidence{{Where: c.Where, Value: "no volumeMount covers " + pl.Path}}
	}
	return []Evidence{
		{Where: pl.Mount.Where, Value: "mountPath " + pl.Mount.Path},
		{Where: pl.Volume.Where, Value: string(pl.Volume.Kind)},
	}
}

// strayClaims returns evidence for claims that exist or are declared in w
// but are not mounted at the data path: the seed-000 pattern, where a PVC
// sat unused while Milvus wrote to the container filesystem.
func strayClaims(in *Inputs, w Workload, c Container, pl placement) []Evidence {
	var out []Evidence
	mounted := map[string]string{}
	for _, m := range c.Mounts {
		mounted[m.Volume] = m.Path
	}
	claimed := map[string]bool{}
	for _, v := range w.Volumes {
		if v.Kind != Claim {
			continue
		}
		claimed[v.ClaimName] = true
		if v.Name == pl.Volume.Name && pl.Mounted {
			continue
		}
		where := "declared in the pod but not mounted by container " + c.Name
		if p, ok := mounted[v.Name]; ok {
			where = "mounted at " + p + ", not at " + pl.Path
		}
		out = append(out, Evidence{Where: v.Where, Value: fmt.Sprintf("PersistentVolumeClaim %s is %s", v.ClaimName, where)})
	}
	for _, cl := range in.Claims {
		if !claimed[cl.Name] && !claimedElsewhere(in, cl.Name) {
			out = append(out, Evidence{Where: cl.Where, Value: fmt.Sprintf("PersistentVolumeClaim %s exists but no workload mounts it", cl.Name)})
		}
	}
	return out
}

func claimedElsewhere(in *Inputs, claim string) bool {
	for _, w := range in.Workloads {
		for _, v := range w.Volumes {
			if v.Kind == Claim && v.ClaimName == claim {
				return true
			}
		}
	}
	return false
}

// suggestedMount is the directory to put a volume on for data path p.
func suggestedMount(p string) string {
	if within(p, "/var/lib/milvus") {
		return "/var/lib/milvus"
	}
	return path.Clean(p)
}

// mountFix returns the YAML that puts dir of container c on persistent
// storage, in the syntax of the workload kind.
func mountFix(w Workload, c Container, dir string) string {
	if w.Kind == "compose service" {
		return fmt.Sprintf("services:\n  %s:\n    volumes:\n      - ./volumes/%s:%s", w.Name, w.Name, dir)
	}
	claim := w.Name + "-data"
	for _, v := range w.Volumes {
		if v.Kind == Claim {
			claim = v.ClaimName
		}
	}
	return strings.Join([]string{
		"spec:", "  template:", "    spec:", "      containers:",
		"        - name: " + c.Name, "          volumeMounts:", "            - name: data", "              mountPath: " + dir,
		"      volumes:", "        - name: data", "          persistentVolumeClaim:", "            claimName: " + claim,
	}, "\n")
}
