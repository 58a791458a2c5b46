package doctor

import (
	"strconv"

	"go.yaml.in/yaml/v3"
)

// maxDepth bounds recursion over YAML trees, so hostile inputs (deep nesting,
// alias chains) cannot exhaust the stack.
const maxDepth = 64

// resolve follows document and alias nodes to the value node.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && i < maxDepth; i++ {
		switch n.Kind {
		case yaml.DocumentNode:
			if len(n.Content) == 0 {
				return nil
			}
			n = n.Content[0]
		case yaml.AliasNode:
			n = n.Alias
		default:
			return n
		}
	}
	return nil
}

// child returns the value of key in mapping n, or nil.
func child(n *yaml.Node, key string) *yaml.Node {
	n = resolve(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return resolve(n.Content[i+1])
		}
	}
	return nil
}

// at follows a path of mapping keys from n.
func at(n *yaml.Node, keys ...string) *yaml.Node {
	for _, k := range keys {
		n = child(n, k)
	}
	return n
}

// str returns the scalar value of n ("" for non-scalars).
func str(n *yaml.Node) string {
	n = resolve(n)
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

// items returns the elements of sequence n.
func items(n *yaml.Node) []*yaml.Node {
	n = resolve(n)
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	out := make([]*yaml.Node, 0, len(n.Content))
	for _, it := range n.Content {
		if r := resolve(it); r != nil {
			out = append(out, r)
		}
	}
	return out
}

// strs returns the scalar elements of sequence n (or n itself if scalar).
func strs(n *yaml.Node) []string {
	if r := resolve(n); r != nil && r.Kind == yaml.ScalarNode {
		return []string{r.Value}
	}
	var out []string
	for _, it := range items(n) {
		out = append(out, str(it))
	}
	return out
}

// line returns n's line, or 0.
func line(n *yaml.Node) int {
	if n == nil {
		return 0
	}
	return n.Line
}

// isMap reports whether n is a mapping.
func isMap(n *yaml.Node) bool {
	n = resolve(n)
	return n != nil && n.Kind == yaml.MappingNode
}

// intOr parses n as an integer, or returns def.
func intOr(n *yaml.Node, def int) int {
	v, err := strconv.Atoi(str(n))
	if err != nil {
		return def
	}
	return v
}

// flatten walks mapping n and calls fn for every scalar leaf with its
// dotted key path.
func flatten(n *yaml.Node, prefix string, depth int, fn func(path string, leaf *yaml.Node)) {
	n = resolve(n)
	if n == nil || depth > maxDepth {
		return
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			key := n.Content[i].Value
			if prefix != "" {
				key = prefix + "." + key
			}
			flatten(n.Content[i+1], key, depth+1, fn)
		}
	case yaml.ScalarNode:
		fn(prefix, n)
	}
}
