package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/milvault/milvault/repo"
)

// InitOptions are the flags of `milvault init`; the location is --repo.
// The encryption flags live in GlobalOptions.encrypt, which initRepoWith reads.
type InitOptions struct {
	ObjectLock string
	Like       string
}

// AddFlags registers the flags.
func (o *InitOptions) AddFlags(cmd *cobra.Command, g *GlobalOptions) {
	g.encrypt.addFlags(cmd.Flags())
	cmd.Flags().StringVar(&o.Like, "like", "", "create the repository with the encryption and keys of this existing repository, so that copies between them work (needs no key)")
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
so a typo in --repo fails instead of starting a new, empty one.

With --encrypt the repository is encrypted with age (docs/encryption.md):
every backup file, manifest, proof and lock is encrypted, and object names
reveal no database, collection or partition. It is unlocked by a
passphrase (MILVAULT_PASSWORD, --password-file, or asked on the terminal)
and/or by the identities of --recipient keys. Backups into it need no key.`,
		Example: `  milvault init --repo /var/backups/milvus
  MILVAULT_PASSWORD=... milvault init --encrypt --repo /var/backups/milvus
  milvault init --encrypt --recipient age1... --repo 's3://backups/milvus?region=eu-west-1'
  milvault init --like s3://backups/milvus --repo s3://offsite/milvus   # a copy target sharing its key
  milvault init --repo 's3://locked-bucket/milvus' --object-lock compliance:30d`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runInit(cmd.Context(), g, o) },
	}
	o.AddFlags(cmd, g)
	return cmd
}

// initJSON is the `init --json` document.
type initJSON struct {
	Repository string         `json:"repository"`
	ID         string         `json:"id"`
	Version    int            `json:"version"`
	Encrypted  bool           `json:"encrypted"`
	Keys       []repo.KeyInfo `json:"keys,omitempty"`
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
	var r *repo.Repository
	var err error
	if o.Like == "" {
		r, err = g.initRepoWith(ctx, g.Repo, opts)
	} else {
		r, err = g.initRepoLike(ctx, o.Like)
	}
	if err != nil {
		return err
	}
	cfg := r.Config()
	keys, err := r.Keys(ctx)
	if err != nil {
		return err
	}
	if g.JSON {
		return writeJSON(g, initJSON{Repository: g.repoDisplay(), ID: cfg.ID, Version: cfg.Version, Encrypted: r.Encrypted(), Keys: keys})
	}
	g.printf("created milvault repository %s at %s\n", cfg.ID, g.repoDisplay())
	if r.Encrypted() {
		g.printf("encrypted with age; keys: %s\nkeep a key safe: without one no backup can be read\n", describeKeys(keys))
	}
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
	if !g.encrypt.Encrypt {
		if len(g.encrypt.Recipients) > 0 || g.encrypt.RecipientsFile != "" {
			return nil, usageErrorf("--recipient and --recipients-file need --encrypt")
		}
	} else {
		spec, err := g.keySpec(g.encrypt, true)
		if err != nil {
			return nil, err
		}
		o.Encrypt = &spec
	}
	r, err := repo.InitWith(ctx, s, o)
	return r, explainNoRepo(loc, err)
}

// describeKeys names keys for people: "passphrase-1a2b (passphrase), ...".
func describeKeys(keys []repo.KeyInfo) string {
	var out []string
	for _, k := range keys {
		what := k.Type
		if k.Recipient != "" {
			what = k.Recipient
		}
		out = append(out, k.ID+" ("+what+")")
	}
	return strings.Join(out, ", ")
}

// initRepoLike creates the repository at --repo with the encryption of the
// repository at like (repo.InitLike).
func (g *GlobalOptions) initRepoLike(ctx context.Context, like string) (*repo.Repository, error) {
	if g.encrypt.Encrypt || len(g.encrypt.Recipients) > 0 || g.encrypt.RecipientsFile != "" {
		return nil, usageErrorf("--like takes the encryption and keys of %s: leave out --encrypt, --recipient and --recipients-file", like)
	}
	src, err := g.openDestination(ctx, like)
	if err != nil {
		return nil, fmt.Errorf("--like: %w", err)
	}
	return g.initLike(ctx, g.Repo, src)
}
