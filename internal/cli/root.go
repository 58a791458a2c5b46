// Package cli is the milvault command line: a thin layer that parses flags,
// opens the repository and the Milvus connection, calls the library
// packages and renders their results.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/spf13/cobra"

	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/milvus"
	"github.com/milvault/milvault/progress"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/blob"
)

// GlobalOptions are the options every command shares. Like every flag,
// they resolve from flags, then MILVAULT_* environment variables, then the
// YAML config file, then defaults (see resolve and package config).
type GlobalOptions struct {
	Milvus      string
	Token       string
	Repo        string
	ConfigFile  string
	Profile     string
	JSON        bool
	Quiet       bool
	storeFlags  // --retries, --upload-limit, --connections, ... (storeflags.go)
	milvusFlags // --token-file, --tls-ca, --tls-cert, ... (milvusflags.go)
	keyFlags    // --identity-file, --password-file (keyflags.go)
	// encrypt holds the --encrypt flags of the command that may create a
	// repository (init, backup --init); zero for the others.
	encrypt encryptFlags

	stdout, stderr io.Writer
	stdin          io.Reader
	flags          *cobra.Command
}

// AddFlags registers the global flags.
func (o *GlobalOptions) AddFlags(cmd *cobra.Command) {
	f := cmd.PersistentFlags()
	f.StringVar(&o.Milvus, "milvus", "localhost:19530", "Milvus address: host:port, or https://host:port for TLS (see --tls-ca)")
	f.StringVar(&o.Token, "token", "", "Milvus token: user:password or API key")
	f.StringVar(&o.Repo, "repo", "./milvault-backups", "backup repository: a folder, file://, s3://, gs:// or azblob:// URL (see milvault init)")
	f.StringVar(&o.ConfigFile, "config", "", "YAML config file whose keys are flag names (env MILVAULT_CONFIG; see docs/config.md)")
	f.StringVar(&o.Profile, "profile", "", "profile of the config file to use (env MILVAULT_PROFILE)")
	f.BoolVar(&o.JSON, "json", false, "print machine-readable JSON on stdout (progress as JSON lines on stderr)")
	f.BoolVarP(&o.Quiet, "quiet", "q", false, "no progress output")
	o.storeFlags.addFlags(f)
	o.milvusFlags.addFlags(f)
	o.keyFlags.addFlags(f)
}

// NewRootCommand builds the milvault command tree.
func NewRootCommand(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	return newRoot(&GlobalOptions{stdout: stdout, stderr: stderr, stdin: stdin})
}

func newRoot(g *GlobalOptions) *cobra.Command {
	root := &cobra.Command{
		Use:   "milvault",
		Short: "Backup, restore and verification for Milvus",
		Long: `milvault takes logical backups of Milvus collections (schema, partitions,
indexes, aliases, load state and every row, as checksummed Parquet files)
and restores them into the same or another Milvus. Start with milvault init.

Every flag can also be set as MILVAULT_<FLAG> in the environment or as a key
in the YAML file given by --config (flags > environment > file > defaults);
see docs/config.md. Exit codes are listed in docs/cli.md.`,
		SilenceUsage:      true,
		SilenceErrors:     true,
		Version:           BuildVersion().String(),
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error { return g.preRun(cmd) },
	}
	root.SetFlagErrorFunc(flagError)
	root.SetVersionTemplate("milvault {{.Version}}\n")
	root.SetIn(g.stdin)
	root.SetOut(g.stdout)
	root.SetErr(g.stderr)
	g.AddFlags(root)
	root.AddCommand(newBackupCommand(g), newListCommand(g), newShowCommand(g),
		newRestoreCommand(g), newDeleteCommand(g), newDemoCommand(g), newVerifyCommand(g), newPruneCommand(g), newDrillCommand(g), newCopyCommand(g), newUnlockCommand(g), newDoctorCommand(g), newInitCommand(g), newGendocsCommand(g), newVersionCommand(g), newServeCommand(g))
	root.AddCommand(newFreezeCommand(g), newThawCommand(g))
	root.AddCommand(newConvertCommand(g))
	root.AddCommand(newExportCommand(g))
	root.AddCommand(newImportCommand(g))
	root.AddCommand(newAuditCommand(g))
	root.AddCommand(newKeyCommand(g))
	root.AddCommand(newGuardCommand(g))
	root.AddCommand(newTrashCommand(g))
	root.AddCommand(newLogCommand(g))
	registerCompletions(root, g)
	return root
}

// preRun resolves the options of cmd before it runs.
func (g *GlobalOptions) preRun(cmd *cobra.Command) error {
	g.flags = cmd
	tokenOnCommandLine := cmd.Flags().Changed("token")
	if err := g.resolve(cmd); err != nil {
		return err
	}
	return g.resolveToken(tokenOnCommandLine)
}

// flagError makes cobra's flag errors usage errors.
func flagError(cmd *cobra.Command, err error) error {
	return usageErrorf("%v (see %s --help)", err, cmd.CommandPath())
}

// openRepo opens the existing repository at --repo.
func (g *GlobalOptions) openRepo(ctx context.Context) (*repo.Repository, error) {
	return g.openRepoAt(ctx, g.Repo)
}

// openRepoAt opens the existing repository at loc.
func (g *GlobalOptions) openRepoAt(ctx context.Context, loc string) (*repo.Repository, error) {
	s, err := g.openStoreAt(loc)
	if err != nil {
		return nil, err
	}
	r, err := repo.Open(ctx, s)
	if err != nil {
		return nil, explainNoRepo(loc, err)
	}
	return r, g.unlock(ctx, r)
}

// explainNoRepo adds to a "no repository" error whether a local location
// exists at all, which only the command line can tell.
func explainNoRepo(loc string, err error) error {
	var nre *repo.NoRepositoryError
	if !errors.As(err, &nre) || nre.Foreign {
		return err
	}
	path, isLocal := localPath(loc)
	if _, serr := os.Stat(path); isLocal && errors.Is(serr, fs.ErrNotExist) {
		nre.Missing = true
	}
	return err
}

// findBackup opens the repository and finds backup ref (id or name).
func (g *GlobalOptions) findBackup(ctx context.Context, ref string) (*repo.Repository, *manifest.Manifest, error) {
	r, err := g.openRepo(ctx)
	if err != nil {
		return nil, nil, err
	}
	m, err := r.Find(ctx, ref)
	return r, m, err
}

// repoDisplay is the repository location as it may be shown: URL query
// parameters and passwords that could hold secrets are redacted.
func (g *GlobalOptions) repoDisplay() string {
	return blob.RedactURL(g.Repo)
}

// connect opens the Milvus connection.
func (g *GlobalOptions) connect(ctx context.Context) (*milvus.Client, error) {
	return g.connectTo(ctx, g.Milvus)
}

// progress returns the renderer for long operations (on stderr).
func (g *GlobalOptions) progress() progress.Progress {
	if g.Quiet {
		return progress.Nop
	}
	return progress.ForWriter(g.stderr, g.JSON)
}

func (g *GlobalOptions) printf(format string, args ...any) {
	fmt.Fprintf(g.stdout, format, args...)
}

// warnf prints a warning on stderr.
func (g *GlobalOptions) warnf(format string, args ...any) {
	fmt.Fprintf(g.stderr, "warning: "+format+"\n", args...)
}

// isTerminal reports whether r is an interactive terminal.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
