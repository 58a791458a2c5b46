package doctor

import (
	"path"
	"strings"
)

// Role is what a container runs, as far as data safety is concerned.
type Role string

// Roles the doctor knows.
const (
	RoleMilvus Role = "milvus"
	RoleEtcd   Role = "etcd"
	RoleMinIO  Role = "minio"
	RoleOther  Role = ""
)

// imageName returns the repository part of an image reference without
// registry, tag or digest: "docker.io/milvusdb/milvus:v2.3.5" → "milvusdb/milvus".
func imageName(image string) string {
	image, _, _ = strings.Cut(image, "@")
	if i := strings.LastIndex(image, ":"); i > strings.LastIndex(image, "/") {
		image = image[:i]
	}
	parts := strings.Split(image, "/")
	if len(parts) > 1 && strings.ContainsAny(parts[0], ".:") {
		parts = parts[1:]
	}
	return strings.ToLower(strings.Join(parts, "/"))
}

// RoleOf classifies a container by image, falling back to its command.
func RoleOf(c Container) Role {
	base := path.Base(imageName(c.Image))
	switch {
	case base == "milvus":
		return RoleMilvus
	case base == "etcd" || strings.HasPrefix(base, "etcd-"):
		return RoleEtcd
	case base == "minio":
		return RoleMinIO
	}
	cmd := strings.Join(c.Command, " ")
	switch {
	case strings.Contains(cmd, "milvus run"):
		return RoleMilvus
	case strings.HasPrefix(cmd, "etcd "):
		return RoleEtcd
	case strings.HasPrefix(cmd, "minio server"):
		return RoleMinIO
	}
	return RoleOther
}

// coveringMount returns the mount whose path contains p (the deepest one).
func coveringMount(c Container, p string) (Mount, bool) {
	var best Mount
	found := false
	for _, m := range c.Mounts {
		if m.Path != "" && within(p, m.Path) && (!found || len(m.Path) > len(best.Path)) {
			best, found = m, true
		}
	}
	return best, found
}

// within reports whether path p is dir or below it.
func within(p, dir string) bool {
	p, dir = path.Clean(p), path.Clean(dir)
	return p == dir || dir == "/" || strings.HasPrefix(p, dir+"/")
}

// effective returns the value Milvus in container c uses for key: its
// environment wins over configuration files, which win over nothing.
func (in *Inputs) effective(c Container, key string) (Setting, bool) {
	if v, ok := c.Env.Get(key); ok {
		return v, true
	}
	return in.configValue(key)
}

// configValue returns the first configuration file or Helm extraConfigFiles
// that sets key.
func (in *Inputs) configValue(key string) (Setting, bool) {
	for _, cfg := range in.allConfigs() {
		if v, ok := cfg.Settings.Get(key); ok {
			return v, true
		}
	}
	return Setting{}, false
}

// allConfigs returns the milvus.yaml configurations, including those
// embedded in Helm values.
func (in *Inputs) allConfigs() []MilvusConfig {
	out := append([]MilvusConfig(nil), in.Configs...)
	for _, h := range in.Helm {
		out = append(out, h.Embedded...)
	}
	return out
}

// milvusContainers calls fn for every Milvus container.
func (in *Inputs) milvusContainers(fn func(w Workload, c Container)) {
	in.containers(RoleMilvus, fn)
}

// containers calls fn for every container with role r.
func (in *Inputs) containers(r Role, fn func(w Workload, c Container)) {
	for _, w := range in.Workloads {
		for _, c := range w.Containers {
			if RoleOf(c) == r {
				fn(w, c)
			}
		}
	}
}

// hasMilvusWorkload reports whether any workload runs Milvus.
func (in *Inputs) hasMilvusWorkload() bool {
	found := false
	in.milvusContainers(func(Workload, Container) { found = true })
	return found
}

// containerLabel names a container for messages.
func containerLabel(w Workload, c Container) string {
	if w.Kind == "compose service" {
		return "compose service " + w.Name
	}
	return w.Kind + " " + w.Name + ", container " + c.Name
}

// ev builds evidence from a setting.
func ev(s Setting) Evidence {
	return Evidence{Where: s.Where, Value: s.Key + " = " + s.Value}
}
