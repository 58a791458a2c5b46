package doctor

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// podTemplatePaths says where each workload kind keeps its pod spec.
var podTemplatePaths = map[string][]string{
	"Pod":         {"spec"},
	"Deployment":  {"spec", "template", "spec"},
	"StatefulSet": {"spec", "template", "spec"},
	"DaemonSet":   {"spec", "template", "spec"},
	"ReplicaSet":  {"spec", "template", "spec"},
	"Job":         {"spec", "template", "spec"},
	"CronJob":     {"spec", "jobTemplate", "spec", "template", "spec"},
}

// parseKube adds one Kubernetes object (or the items of a List). Kinds that
// cannot lose data (Service, Secret, ...) are ignored.
func parseKube(in *Inputs, file string, obj *yaml.Node, depth int) error {
	kind := str(child(obj, "kind"))
	name := str(at(obj, "metadata", "name"))
	where := Where{File: file, Line: obj.Line, Path: kind + " " + name}
	switch {
	case strings.HasSuffix(kind, "List"):
		return parseKubeList(in, file, obj, depth)
	case podTemplatePaths[kind] != nil:
		in.Workloads = append(in.Workloads, parseWorkload(file, obj, kind, name, where))
	case kind == "PersistentVolumeClaim":
		in.Claims = append(in.Claims, ClaimInfo{Name: name, StorageClass: str(at(obj, "spec", "storageClassName")),
			VolumeName: str(at(obj, "spec", "volumeName")), Where: where})
	case kind == "PersistentVolume":
		in.Reclaim = append(in.Reclaim, reclaimOf(kind, name, at(obj, "spec", "persistentVolumeReclaimPolicy"), where))
	case kind == "StorageClass":
		in.Reclaim = append(in.Reclaim, reclaimOf(kind, name, child(obj, "reclaimPolicy"), where))
	case kind == "ConfigMap":
		return parseConfigMap(in, file, obj, name)
	}
	return nil
}

func parseKubeList(in *Inputs, file string, obj *yaml.Node, depth int) error {
	if depth > 4 {
		return &ParseError{File: file, Line: obj.Line, Msg: "List nested too deeply"}
	}
	for _, it := range items(child(obj, "items")) {
		if !isMap(it) || child(it, "kind") == nil {
			return &ParseError{File: file, Line: it.Line, Msg: "List item is not a Kubernetes object (no kind)"}
		}
		if err := parseKube(in, file, it, depth+1); err != nil {
			return err
		}
	}
	return nil
}

func reclaimOf(kind, name string, policy *yaml.Node, where Where) ReclaimPolicy {
	if policy != nil {
		where.Line = policy.Line
	}
	return ReclaimPolicy{Object: kind + " " + name, Name: name, Policy: str(policy), Where: where}
}

// parseWorkload reads replicas, volumes and containers of a workload.
func parseWorkload(file string, obj *yaml.Node, kind, name string, where Where) Workload {
	spec := at(obj, podTemplatePaths[kind]...)
	w := Workload{Kind: kind, Name: name, Replicas: intOr(at(obj, "spec", "replicas"), 1), Where: where,
		Volumes: map[string]Volume{}}
	for _, v := range items(child(spec, "volumes")) {
		vol := parsePodVolume(file, v)
		w.Volumes[vol.Name] = vol
	}
	for _, t := range items(at(obj, "spec", "volumeClaimTemplates")) {
		n := str(at(t, "metadata", "name"))
		w.Volumes[n] = Volume{Name: n, Kind: ClaimTemplate, Where: Where{File: file, Line: t.Line, Path: "volumeClaimTemplates " + n}}
	}
	for i, c := range items(child(spec, "containers")) {
		w.Containers = append(w.Containers, parseContainer(file, c, fmt.Sprintf("%s %s containers[%d]", kind, name, i)))
	}
	return w
}

// volumeSources maps pod volume source keys to kinds.
var volumeSources = map[string]VolumeKind{
	"persistentVolumeClaim": Claim, "emptyDir": EmptyDir, "hostPath": HostPath, "configMap": ConfigOnly,
	"secret": ConfigOnly, "projected": ConfigOnly, "downwardAPI": ConfigOnly, "ephemeral": EmptyDir,
}

func parsePodVolume(file string, v *yaml.Node) Volume {
	vol := Volume{Name: str(child(v, "name")), Kind: OtherVolume,
		Where: Where{File: file, Line: v.Line, Path: "volumes " + str(child(v, "name"))}}
	for key, kind := range volumeSources {
		if child(v, key) != nil {
			vol.Kind = kind
		}
	}
	if vol.Kind == EmptyDir && str(at(v, "emptyDir", "medium")) == "Memory" {
		vol.Kind = Tmpfs
	}
	vol.ClaimName = str(at(v, "persistentVolumeClaim", "claimName"))
	return vol
}

func parseContainer(file string, c *yaml.Node, path string) Container {
	ct := Container{Name: str(child(c, "name")), Image: str(child(c, "image")), Env: Settings{},
		Where: Where{File: file, Line: c.Line, Path: path}}
	ct.Command = append(strs(child(c, "command")), strs(child(c, "args"))...)
	for _, e := range items(child(c, "env")) {
		name := str(child(e, "name"))
		val := child(e, "value")
		ct.Env.Set(Setting{Key: name, Value: str(val), Unknown: val == nil,
			Where: Where{File: file, Line: e.Line, Path: path + " env " + name}})
	}
	for _, m := range items(child(c, "volumeMounts")) {
		ct.Mounts = append(ct.Mounts, Mount{Volume: str(child(m, "name")), Path: str(child(m, "mountPath")),
			Where: Where{File: file, Line: m.Line, Path: path + " volumeMounts " + str(child(m, "name"))}})
	}
	return ct
}

// parseConfigMap reads every *.yaml entry of a ConfigMap that is a Milvus
// configuration (the Helm chart and the operator ship milvus.yaml and
// user.yaml this way). Other entries are ignored.
func parseConfigMap(in *Inputs, file string, obj *yaml.Node, name string) error {
	data := child(obj, "data")
	if !isMap(data) {
		return nil
	}
	for i := 0; i+1 < len(data.Content); i += 2 {
		key, val := data.Content[i].Value, resolve(data.Content[i+1])
		if !strings.HasSuffix(key, ".yaml") && !strings.HasSuffix(key, ".yml") || val == nil {
			continue
		}
		if cfg, ok := embeddedMilvusConfig(file, val, "ConfigMap "+name+" "+key); ok {
			in.Configs = append(in.Configs, cfg)
		}
	}
	return nil
}

// embeddedMilvusConfig parses a YAML string held in node val as a Milvus
// configuration. Lines are mapped back into the outer file.
func embeddedMilvusConfig(file string, val *yaml.Node, source string) (MilvusConfig, bool) {
	var doc yaml.Node
	if val.Kind != yaml.ScalarNode || yaml.Unmarshal([]byte(val.Value), &doc) != nil {
		return MilvusConfig{}, false
	}
	root := resolve(&doc)
	if root == nil || root.Kind != yaml.MappingNode || classify(root) != "milvus" {
		return MilvusConfig{}, false
	}
	s := Settings{}
	flatten(root, "", 0, func(p string, leaf *yaml.Node) {
		s.Set(Setting{Key: p, Value: leaf.Value, Where: Where{File: file, Line: val.Line + leaf.Line, Path: source + ": " + p}})
	})
	return MilvusConfig{Source: source, Settings: s}, true
}
