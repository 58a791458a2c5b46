package cli

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/milvault/milvault/repo"
)

// InitOptions are the flags of `milvault init`; the location is --repo.
type InitOptions struct{}

// AddFlags registers the flags.
func (o *InitOptions) AddFlags(cmd *cobra.Command) {}

func newInitCommand(g *GlobalOptions) *cobra.Command {
	o := &InitOptions{}
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Create a backup repository in an empty or new folder or bucket (--repo)",
		Long: `init creates a milvault repository at --repo: a local folder (created when
missing) or a bucket URL. It refuses a location that already holds a
repository or other files. Every other command needs an existing repository,
so a typo in --repo fails instead of starting a new, empty one.`,
		Example: `  milvault init --repo /var/backups/milvus
  milvault init --repo 's3://backups/milvus?region=eu-west-1'`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runInit(cmd.Context(), g, o) },
	}
	o.AddFlags(cmd)
	return cmd
}

// initJSON is the `init --json` document.
type initJSON struct {
	Repository string `json:"repository"`
	ID         string `json:"id"`
	Version    int    `json:"version"`
}

func runInit(ctx context.Context, g *GlobalOptions, o *InitOptions) error {
	r, err := g.initRepo(ctx, g.Repo)
	if err != nil {
		return err
	}
	cfg := r.Config()
	if g.JSON {
		return writeJSON(g, initJSON{Repository: g.repoDisplay(), ID: cfg.ID, Version: cfg.Version})
	}
	g.printf("created milvault repository %s at %s\n", cfg.ID, g.repoDisplay())
	return nil
}

// initRepo creates a repository at loc.
func (g *GlobalOptions) initRepo(ctx context.Context, loc string) (*repo.Repository, error) {
	s, err := g.openStoreAt(loc)
	if err != nil {
		return nil, err
	}
	r, err := repo.Init(ctx, s)
	return r, explainNoRepo(loc, err)
}
