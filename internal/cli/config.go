package cli

import (
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/milvault/milvault/config"
)

// resolve fills the flags that were not given on the command line from
// MILVAULT_* environment variables, then the YAML config file (--config or
// MILVAULT_CONFIG); what neither sets keeps its default. See package config.
func (g *GlobalOptions) resolve(cmd *cobra.Command) error {
	if g.ConfigFile == "" {
		g.ConfigFile = os.Getenv("MILVAULT_CONFIG")
	}
	if g.Profile == "" {
		g.Profile = os.Getenv("MILVAULT_PROFILE")
	}
	var file *config.File
	if g.ConfigFile != "" {
		f, err := config.Load(g.ConfigFile)
		if err != nil {
			return err
		}
		if err := f.Check(flagNames(cmd.Root())); err != nil {
			return err
		}
		if err := f.Use(g.Profile); err != nil {
			return err
		}
		file = f
	} else if g.Profile != "" {
		return usageErrorf("--profile %s needs a config file (--config or MILVAULT_CONFIG)", g.Profile)
	}
	return config.Apply(cmd.Flags(), commandKey(cmd), os.LookupEnv, file)
}

// commandKey names a command in config sections and environment variables:
// its path below the root, joined with dashes ("backup", "demo-seed").
func commandKey(cmd *cobra.Command) string {
	path := strings.Fields(cmd.CommandPath())
	return strings.Join(path[1:], "-")
}

// flagNames lists every command's flag names by command key; "" holds the
// global flags.
func flagNames(root *cobra.Command) map[string][]string {
	out := map[string][]string{}
	root.PersistentFlags().VisitAll(func(f *pflag.Flag) { out[""] = append(out[""], f.Name) })
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			key := commandKey(sub)
			out[key] = []string{}
			sub.LocalFlags().VisitAll(func(f *pflag.Flag) { out[key] = append(out[key], f.Name) })
			walk(sub)
		}
	}
	walk(root)
	return out
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

// firstSet returns the first non-empty value.
func firstSet(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
