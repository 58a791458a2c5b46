package doctor

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// ParseError reports an input file the doctor cannot read: malformed YAML or
// a document of a kind it does not know.
type ParseError struct {
	File string
	Line int
	Msg  string
}

func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// maxDocuments bounds the documents read from one file.
const maxDocuments = 10000

// ParseFile reads one input file: milvus.yaml, Helm values of the Milvus
// chart, Kubernetes manifests (multi-document, or a kubectl List),
// docker-compose, or a milvus-backup backup.yaml. Each document is classified
// on its own.
func ParseFile(name string, data []byte) (*Inputs, error) {
	in := &Inputs{Files: []string{name}}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for i := 0; i < maxDocuments; i++ {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return in, nil
		}
		if err != nil {
			return nil, yamlError(name, err)
		}
		if err := parseDocument(in, name, &doc); err != nil {
			return nil, err
		}
	}
	return nil, &ParseError{File: name, Msg: fmt.Sprintf("more than %d YAML documents", maxDocuments)}
}

var yamlLine = regexp.MustCompile(`line (\d+)`)

// yamlError turns a yaml.v3 error into a ParseError with its line.
func yamlError(name string, err error) error {
	pe := &ParseError{File: name, Msg: "malformed YAML: " + err.Error()}
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		pe.Line, _ = strconv.Atoi(m[1])
	}
	return pe
}

// parseDocument classifies one YAML document and adds what it describes.
func parseDocument(in *Inputs, file string, doc *yaml.Node) error {
	root := resolve(doc)
	if root == nil || (root.Kind == yaml.ScalarNode && root.Tag == "!!null") {
		return nil
	}
	if root.Kind != yaml.MappingNode {
		return &ParseError{File: file, Line: root.Line, Msg: "expected a YAML mapping at the top of the document"}
	}
	switch kind := classify(root); kind {
	case "kubernetes":
		return parseKube(in, file, root, 0)
	case "compose":
		return parseCompose(in, file, root)
	case "milvus-backup":
		in.BackupConfigs = append(in.BackupConfigs, BackupToolConfig{File: file, Settings: flattenSettings(root, file, "")})
	case "helm":
		in.Helm = append(in.Helm, parseHelm(file, root))
	case "milvus":
		in.Configs = append(in.Configs, MilvusConfig{Source: file, Settings: flattenSettings(root, file, "")})
	default:
		return &ParseError{File: file, Line: root.Line, Msg: "unknown document: not a milvus.yaml, Helm values of the Milvus chart, Kubernetes object, docker-compose file or milvus-backup config"}
	}
	return nil
}

var (
	helmOnlyKeys = []string{"cluster", "standalone", "externalS3", "externalEtcd", "externalPulsar", "extraConfigFiles", "image", "mixCoordinator", "attu"}
	// helmSubchartKeys appear under minio: and etcd: in Helm values, never in milvus.yaml.
	helmSubchartKeys = []string{"enabled", "persistence", "replicaCount", "mode"}
	milvusYAMLKeys   = []string{"etcd", "minio", "common", "localStorage", "rootCoord", "dataCoord", "dataNode", "queryCoord", "proxy", "rocksmq", "mq"}
)

// classify names the kind of a top-level mapping.
func classify(root *yaml.Node) string {
	switch {
	case child(root, "apiVersion") != nil && child(root, "kind") != nil:
		return "kubernetes"
	case isMap(child(root, "services")):
		return "compose"
	case child(at(root, "minio"), "backupBucketName") != nil || child(at(root, "minio"), "backupRootPath") != nil:
		return "milvus-backup"
	case hasAny(root, helmOnlyKeys) || hasAny(child(root, "minio"), helmSubchartKeys) || hasAny(child(root, "etcd"), helmSubchartKeys):
		return "helm"
	case hasAny(root, milvusYAMLKeys):
		return "milvus"
	}
	return ""
}

func hasAny(n *yaml.Node, keys []string) bool {
	for _, k := range keys {
		if child(n, k) != nil {
			return true
		}
	}
	return false
}

// flattenSettings flattens mapping n into settings located in file.
func flattenSettings(n *yaml.Node, file, prefix string) Settings {
	s := Settings{}
	flatten(n, prefix, 0, func(path string, leaf *yaml.Node) {
		s.Set(Setting{Key: path, Value: leaf.Value, Where: Where{File: file, Line: leaf.Line, Path: path}})
	})
	return s
}
