package doctor

import "go.yaml.in/yaml/v3"

// parseHelm keeps every scalar of a Milvus chart values file by dotted path,
// and parses extraConfigFiles.user.yaml as a Milvus configuration.
func parseHelm(file string, root *yaml.Node) HelmValues {
	h := HelmValues{File: file, Values: map[string]Setting{}}
	flatten(root, "", 0, func(p string, leaf *yaml.Node) {
		h.Values[p] = Setting{Key: p, Value: leaf.Value, Where: Where{File: file, Line: leaf.Line, Path: p}}
	})
	if user := child(child(root, "extraConfigFiles"), "user.yaml"); user != nil {
		if cfg, ok := embeddedMilvusConfig(file, user, "extraConfigFiles.user.yaml"); ok {
			h.Embedded = append(h.Embedded, cfg)
		}
	}
	return h
}

// enabled reports whether boolean value p is set to true, or is unset and
// defaults to def.
func (h HelmValues) enabled(p string, def bool) bool {
	v, ok := h.Get(p)
	if !ok {
		return def
	}
	return isTrue(v.Value)
}

// isTrue reads YAML and environment booleans.
func isTrue(s string) bool {
	switch s {
	case "true", "True", "TRUE", "yes", "on", "1":
		return true
	}
	return false
}
