package doctor

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// parseCompose adds every service of a docker-compose file as a workload
// with one container.
func parseCompose(in *Inputs, file string, root *yaml.Node) error {
	services := child(root, "services")
	for i := 0; i+1 < len(services.Content); i += 2 {
		name, svc := services.Content[i].Value, resolve(services.Content[i+1])
		if !isMap(svc) {
			return &ParseError{File: file, Line: services.Content[i].Line, Msg: fmt.Sprintf("service %q is not a mapping", name)}
		}
		in.Workloads = append(in.Workloads, parseService(file, name, svc))
	}
	return nil
}

func parseService(file, name string, svc *yaml.Node) Workload {
	path := "services." + name
	w := Workload{Kind: "compose service", Name: name, Replicas: intOr(at(svc, "deploy", "replicas"), 1),
		Where: Where{File: file, Line: svc.Line, Path: path}, Volumes: map[string]Volume{}}
	c := Container{Name: name, Image: str(child(svc, "image")), Env: composeEnv(file, path, child(svc, "environment")),
		Where: w.Where}
	c.Command = append(composeWords(child(svc, "entrypoint")), composeWords(child(svc, "command"))...)
	for i, v := range items(child(svc, "volumes")) {
		vol, m := composeVolume(file, fmt.Sprintf("%s.volumes[%d]", path, i), v)
		w.Volumes[vol.Name] = vol
		c.Mounts = append(c.Mounts, m)
	}
	for i, t := range strs(child(svc, "tmpfs")) {
		where := Where{File: file, Line: line(child(svc, "tmpfs")), Path: path + ".tmpfs"}
		vname := fmt.Sprintf("tmpfs%d", i)
		target, _, _ := strings.Cut(t, ":")
		w.Volumes[vname] = Volume{Name: vname, Kind: Tmpfs, Where: where}
		c.Mounts = append(c.Mounts, Mount{Volume: vname, Path: target, Where: where})
	}
	w.Containers = []Container{c}
	return w
}

// composeWords reads a command given as a string or a list.
func composeWords(n *yaml.Node) []string {
	if r := resolve(n); r != nil && r.Kind == yaml.ScalarNode {
		return strings.Fields(r.Value)
	}
	return strs(n)
}

// composeEnv reads environment given as a mapping or a list of K=V.
func composeEnv(file, path string, n *yaml.Node) Settings {
	env := Settings{}
	n = resolve(n)
	if isMap(n) {
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i].Value, resolve(n.Content[i+1])
			env.Set(Setting{Key: k, Value: str(v), Where: Where{File: file, Line: n.Content[i].Line, Path: path + ".environment." + k}})
		}
		return env
	}
	for _, it := range items(n) {
		k, v, hasValue := strings.Cut(str(it), "=")
		env.Set(Setting{Key: k, Value: v, Unknown: !hasValue, Where: Where{File: file, Line: it.Line, Path: path + ".environment." + k}})
	}
	return env
}

// composeVolume reads one service volume in short ("src:dst[:mode]") or
// long syntax.
func composeVolume(file, path string, v *yaml.Node) (Volume, Mount) {
	where := Where{File: file, Line: v.Line, Path: path}
	vol := Volume{Name: path, Where: where}
	m := Mount{Volume: path, Where: where}
	if isMap(v) {
		vol.Kind = composeVolumeKind(str(child(v, "type")), str(child(v, "source")))
		m.Path = str(child(v, "target"))
		return vol, m
	}
	parts := splitVolumeSpec(str(v))
	if len(parts) == 1 {
		m.Path = parts[0]
		vol.Kind = DockerVolume // anonymous volume
		return vol, m
	}
	vol.Kind = composeVolumeKind("", parts[0])
	m.Path = parts[1]
	return vol, m
}

func composeVolumeKind(typ, source string) VolumeKind {
	switch typ {
	case "tmpfs":
		return Tmpfs
	case "bind":
		return Bind
	case "volume":
		return DockerVolume
	}
	if strings.HasPrefix(source, "/") || strings.HasPrefix(source, ".") || strings.HasPrefix(source, "~") || strings.HasPrefix(source, "$") {
		return Bind
	}
	return DockerVolume
}

// splitVolumeSpec splits "src:dst[:mode]" at colons outside ${...}
// interpolations such as ${DIR:-.}.
func splitVolumeSpec(spec string) []string {
	var parts []string
	depth, start := 0, 0
	for i := 0; i < len(spec); i++ {
		switch {
		case spec[i] == '$' && i+1 < len(spec) && spec[i+1] == '{':
			depth++
			i++
		case spec[i] == '}' && depth > 0:
			depth--
		case spec[i] == ':' && depth == 0:
			parts = append(parts, spec[start:i])
			start = i + 1
		}
	}
	return append(parts, spec[start:])
}
