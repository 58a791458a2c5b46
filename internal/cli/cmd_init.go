package cli

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/milvault/milvault/repo"
)

// InitOptions are the flags of `milvault init`; the location is --repo.
type InitOptions struct {
	ObjectLock string
}

// AddFlags registers the flags.
func (o *InitOptions) AddFlags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.ObjectLock, "object-lock", "", "keep every file milvault writes for this retention: [governance:|compliance:]PERIOD, e.g. 30d (S3 Object Lock; local files become read-only); see docs/audit.md")
}

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
  milvault init --repo 's3://backups/milvus?region=eu-west-1'
  milvault init --repo 's3://locked-bucket/milvus' --object-lock compliance:30d`,
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
	var opts repo.InitOptions
	if o.ObjectLock != "" {
		ol, err := repo.ParseObjectLock(o.ObjectLock)
		if err != nil {
			return err
		}
		opts.ObjectLock = ol
	}
	r, err := g.initRepoWith(ctx, g.Repo, opts)
	if err != nil {
		return err
	}
	cfg := r.Config()
	if g.JSON {
		return writeJSON(g, initJSON{Repository: g.repoDisplay(), ID: cfg.ID, Version: cfg.Version})
	}
	g.printf("created milvault repository %s at %s\n", cfg.ID, g.repoDisplay())
	if ol := cfg.ObjectLock; ol != nil {
		g.printf("object lock: every backup file is kept for %s (%s mode) after it is written\n", ol.Retention(), ol.Mode)
	}
	return nil
}

// initRepo creates a repository at loc.
func (g *GlobalOptions) initRepo(ctx context.Context, loc string) (*repo.Repository, error) {
	return g.initRepoWith(ctx, loc, repo.InitOptions{})
}

// initRepoWith creates a repository at loc with settings o.
func (g *GlobalOptions) initRepoWith(ctx context.Context, loc string, o repo.InitOptions) (*repo.Repository, error) {
	s, err := g.openStoreAt(loc)
	if err != nil {
		return nil, err
	}
	r, err := repo.InitWith(ctx, s, o)
	return r, explainNoRepo(loc, err)
}
