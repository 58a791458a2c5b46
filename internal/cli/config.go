package cli

import (
	"context"
	"os"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/milvault/milvault/errkind"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/blob"
	"github.com/milvault/milvault/repo/local"
)

// fileConfig is the YAML config file.
type fileConfig struct {
	Milvus string `yaml:"milvus"`
	Token  string `yaml:"token"`
	Repo   string `yaml:"repo"`
}

// resolve fills unset options from the environment, then the config file,
// then defaults. Flags win because they are already set.
func (g *GlobalOptions) resolve() error {
	if g.ConfigFile == "" {
		g.ConfigFile = os.Getenv("MILVAULT_CONFIG")
	}
	var fc fileConfig
	if g.ConfigFile != "" {
		data, err := os.ReadFile(g.ConfigFile)
		if err != nil {
			return usageErrorf("config file: %v", err)
		}
		dec := yaml.NewDecoder(strings.NewReader(string(data)))
		dec.KnownFields(true)
		if err := dec.Decode(&fc); err != nil && err.Error() != "EOF" {
			return usageErrorf("config file %s: %v (keys: milvus, token, repo)", g.ConfigFile, err)
		}
	}
	g.Milvus = firstSet(g.Milvus, os.Getenv("MILVAULT_MILVUS"), fc.Milvus, "localhost:19530")
	g.Token = firstSet(g.Token, os.Getenv("MILVAULT_TOKEN"), fc.Token, "")
	g.Repo = firstSet(g.Repo, os.Getenv("MILVAULT_REPO"), fc.Repo, "./milvault-backups")
	return nil
}

func firstSet(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// localPath returns the folder of a local repository location; isLocal is
// false for bucket URLs.
func localPath(loc string) (path string, isLocal bool) {
	scheme, rest, hasScheme := strings.Cut(loc, "://")
	switch {
	case !hasScheme:
		return loc, true
	case scheme == "file":
		return rest, true
	}
	return "", false
}

// openStore maps a repository location to a store. Plain paths and file://
// URLs are local folders; s3://, gs://, azblob:// and mem:// URLs are
// object-storage buckets (see package repo/blob).
func openStore(loc string) (repo.Store, error) {
	scheme, rest, hasScheme := strings.Cut(loc, "://")
	if !hasScheme {
		return newLocal(loc)
	}
	switch scheme {
	case "file":
		if rest == "" {
			return nil, usageErrorf("repository URL %q has no path", loc)
		}
		return newLocal(rest)
	}
	if blob.Supports(scheme) {
		s, err := blob.Open(context.Background(), loc)
		if err != nil {
			return nil, errkind.Wrap(errkind.Usage, err)
		}
		return s, nil
	}
	return nil, usageErrorf("repository URL scheme %q is not supported: use a local folder, file://, s3://, gs://, azblob:// or mem://", scheme)
}

// newLocal opens a local store; a path that cannot be a repository is a
// usage error.
func newLocal(path string) (repo.Store, error) {
	s, err := local.New(path)
	if err != nil {
		return nil, errkind.Wrap(errkind.Usage, err)
	}
	return s, nil
}
