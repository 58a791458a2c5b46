// Package cli is the milvault command line: a thin layer that parses flags,
// opens the repository and the Milvus connection, calls the library
// packages and renders their results.
package cli

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/milvus"
	"github.com/milvault/milvault/progress"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/blob"
)

// Version is set at build time with -ldflags "-X .../internal/cli.Version=...".
var Version = "dev"

// GlobalOptions are the options every command shares. They resolve from
// flags, then MILVAULT_* environment variables, then the YAML config file,
// then defaults (see resolve).
type GlobalOptions struct {
	Milvus     string
	Token      string
	Repo       string
	ConfigFile string
	JSON       bool
	Quiet      bool
	storeFlags // --retries, --upload-limit, --connections, ... (storeflags.go)

	stdout, stderr io.Writer
	stdin          io.Reader
	flags          *cobra.Command
}

// AddFlags registers the global flags.
func (o *GlobalOptions) AddFlags(cmd *cobra.Command) {
	f := cmd.PersistentFlags()
	f.StringVar(&o.Milvus, "milvus", "", "Milvus address host:port (env MILVAULT_MILVUS, default localhost:19530)")
	f.StringVar(&o.Token, "token", "", "Milvus token: user:password or API key (env MILVAULT_TOKEN)")
	f.StringVar(&o.Repo, "repo", "", "backup repository: a folder or file:// URL (env MILVAULT_REPO, default ./milvault-backups)")
	f.StringVar(&o.ConfigFile, "config", "", "YAML config file with keys milvus, token, repo (env MILVAULT_CONFIG)")
	f.BoolVar(&o.JSON, "json", false, "print machine-readable JSON on stdout (progress as JSON lines on stderr)")
	f.BoolVarP(&o.Quiet, "quiet", "q", false, "no progress output")
	o.storeFlags.addFlags(f)
}

// NewRootCommand builds the milvault command tree.
func NewRootCommand(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	g := &GlobalOptions{stdout: stdout, stderr: stderr, stdin: stdin}
	root := &cobra.Command{
		Use:   "milvault",
		Short: "Backup, restore and verification for Milvus",
		Long: `milvault takes logical backups of Milvus collections (schema, partitions,
indexes, aliases, load state and every row, as checksummed Parquet files)
and restores them into the same or another Milvus.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       Version,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			g.flags = cmd
			return g.resolve()
		},
	}
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return usageErrorf("%v (see %s --help)", err, cmd.CommandPath())
	})
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	g.AddFlags(root)
	root.AddCommand(newBackupCommand(g), newListCommand(g), newShowCommand(g),
		newRestoreCommand(g), newDeleteCommand(g), newDemoCommand(g), newVerifyCommand(g), newPruneCommand(g), newDrillCommand(g), newCopyCommand(g), newUnlockCommand(g), newDoctorCommand(g), newServeCommand(g))
	return root
}

// openRepo opens an existing repository.
func (g *GlobalOptions) openRepo(ctx context.Context) (*repo.Repository, error) {
	s, err := g.store()
	if err != nil {
		return nil, err
	}
	return repo.Open(ctx, s)
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

// openOrInitRepo opens the repository, creating it when the location is empty.
func (g *GlobalOptions) openOrInitRepo(ctx context.Context) (*repo.Repository, error) {
	s, err := g.store()
	if err != nil {
		return nil, err
	}
	return repo.OpenOrInit(ctx, s)
}

// repoDisplay is the repository location as it may be shown: URL query
// parameters and passwords that could hold secrets are redacted.
func (g *GlobalOptions) repoDisplay() string {
	return blob.RedactURL(g.Repo)
}

func (g *GlobalOptions) store() (repo.Store, error) {
	return g.openStoreAt(g.Repo)
}

// connect opens the Milvus connection.
func (g *GlobalOptions) connect(ctx context.Context) (*milvus.Client, error) {
	return milvus.Connect(ctx, milvus.Config{Address: g.Milvus, Token: g.Token})
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
