package cli

import (
	"context"
	"os"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/milvault/milvault/repo"
)

// newPasswordEnv holds the new passphrase of `key add --passphrase` and
// `key passwd`, read from the environment only (never a flag value).
const newPasswordEnv = "MILVAULT_NEW_PASSWORD"

// KeyOptions are the flags of `milvault key add` and `key passwd`.
type KeyOptions struct {
	Recipients      []string
	RecipientsFile  string
	Passphrase      bool
	NewPasswordFile string
	LockWait        time.Duration
}

// AddFlags registers the flags of `key add`.
func (o *KeyOptions) AddFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringSliceVar(&o.Recipients, "recipient", nil, "age X25519 recipient (age1...) to add (repeatable)")
	f.StringVar(&o.RecipientsFile, "recipients-file", "", "file of age X25519 recipients to add, one per line")
	f.BoolVar(&o.Passphrase, "passphrase", false, "add a passphrase key (from --new-password-file, MILVAULT_NEW_PASSWORD or a prompt)")
	f.StringVar(&o.NewPasswordFile, "new-password-file", "", "file whose first line is the new passphrase (or set MILVAULT_NEW_PASSWORD)")
	addLockWaitFlag(f, &o.LockWait)
}

func newKeyCommand(g *GlobalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "key",
		Short: "List, add or remove the keys of an encrypted repository, or change its passphrase",
		Long: `key manages who can read an encrypted repository (docs/encryption.md). The
repository's own key is wrapped once per user key in a small key file under
keys/; adding or removing a key, or changing the passphrase, rewrites only
those key files, never a backup. add and passwd need a current key
(--identity-file, --password-file or MILVAULT_PASSWORD); list and remove
need none. Removing a key stops it from unlocking the repository from now
on; it cannot take back a repository key that was already read with it.`,
		Args: noArgs,
	}
	cmd.AddCommand(newKeyListCommand(g), newKeyAddCommand(g), newKeyRemoveCommand(g), newKeyPasswdCommand(g))
	return cmd
}

func newKeyListCommand(g *GlobalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the keys that unlock the repository (needs no key)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := g.openRepo(cmd.Context())
			if err != nil {
				return err
			}
			keys, err := r.Keys(cmd.Context())
			if err != nil {
				return err
			}
			return printKeys(g, r, keys)
		},
	}
}

func printKeys(g *GlobalOptions, r *repo.Repository, keys []repo.KeyInfo) error {
	if g.JSON {
		return writeJSON(g, keys)
	}
	if !r.Encrypted() {
		g.printf("%s is not encrypted: it has no keys\n", g.repoDisplay())
		return nil
	}
	tw := tabwriter.NewWriter(g.stdout, 0, 0, 2, ' ', 0)
	g.printf("repository recipient (for writers): %s\n", r.Config().Encryption.Recipient)
	fmtLine(tw, "ID\tTYPE\tRECIPIENT\tCREATED")
	for _, k := range keys {
		fmtLine(tw, k.ID+"\t"+k.Type+"\t"+orDash(k.Recipient)+"\t"+k.CreatedAt.Local().Format("2006-01-02 15:04:05"))
	}
	return tw.Flush()
}

func fmtLine(tw *tabwriter.Writer, s string) { _, _ = tw.Write([]byte(s + "\n")) }

func newKeyAddCommand(g *GlobalOptions) *cobra.Command {
	o := &KeyOptions{}
	cmd := &cobra.Command{
		Use:   "add",
		Short: "Add recipient keys or a passphrase key (needs a current key)",
		Example: `  milvault key add --identity-file admin.key --recipient age1...
  MILVAULT_PASSWORD=old MILVAULT_NEW_PASSWORD=new milvault key add --passphrase`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runKeyAdd(cmd.Context(), g, o) },
	}
	o.AddFlags(cmd)
	return cmd
}

func runKeyAdd(ctx context.Context, g *GlobalOptions, o *KeyOptions) error {
	spec, err := g.keySpec(encryptFlags{Recipients: o.Recipients, RecipientsFile: o.RecipientsFile, Encrypt: true}, false)
	if err != nil {
		return err
	}
	if o.Passphrase {
		if spec.Passphrase, err = g.newPassphrase(o); err != nil {
			return err
		}
	}
	if len(spec.Recipients) == 0 && spec.Passphrase == "" {
		return usageErrorf("key add needs --recipient, --recipients-file or --passphrase")
	}
	return g.withKeyLock(ctx, o, func(ctx context.Context, r *repo.Repository) error {
		added, err := r.AddKeys(ctx, spec)
		if err != nil {
			return err
		}
		return reportKeys(g, "added", added)
	})
}

// newPassphrase reads the new passphrase of --new-password-file or
// MILVAULT_NEW_PASSWORD, else asks on the terminal.
func (g *GlobalOptions) newPassphrase(o *KeyOptions) (string, error) {
	if o.NewPasswordFile != "" {
		return readPasswordFile(o.NewPasswordFile)
	}
	if p := os.Getenv(newPasswordEnv); p != "" {
		return p, nil
	}
	return g.promptPassphrase()
}

// withKeyLock opens and unlocks the repository and runs fn under its
// exclusive lock, so that key changes never race each other.
func (g *GlobalOptions) withKeyLock(ctx context.Context, o *KeyOptions, fn func(context.Context, *repo.Repository) error) error {
	r, err := g.openRepo(ctx)
	if err != nil {
		return err
	}
	_, lctx, unlock, err := g.lockRepo(ctx, r, "key", true, o.LockWait)
	if err != nil {
		return err
	}
	defer unlock()
	return fn(lctx, r)
}

func reportKeys(g *GlobalOptions, verb string, keys []repo.KeyInfo) error {
	if g.JSON {
		return writeJSON(g, keys)
	}
	g.printf("%s %s\n", verb, describeKeys(keys))
	return nil
}

func newKeyRemoveCommand(g *GlobalOptions) *cobra.Command {
	o := &KeyOptions{}
	cmd := &cobra.Command{
		Use:   "remove KEY-ID",
		Short: "Remove a key (see key list); the last key cannot be removed",
		Args:  exactArgs(1, "the key id (see milvault key list)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withKeyLock(cmd.Context(), o, func(ctx context.Context, r *repo.Repository) error {
				if err := r.RemoveKey(ctx, args[0]); err != nil {
					return err
				}
				return reportKeys(g, "removed", []repo.KeyInfo{{ID: args[0], Type: "key"}})
			})
		},
	}
	addLockWaitFlag(cmd.Flags(), &o.LockWait)
	return cmd
}

func newKeyPasswdCommand(g *GlobalOptions) *cobra.Command {
	o := &KeyOptions{}
	cmd := &cobra.Command{
		Use:     "passwd",
		Short:   "Change the passphrase: add the new one, then remove every old passphrase key",
		Example: `  MILVAULT_PASSWORD=old MILVAULT_NEW_PASSWORD=new milvault key passwd`,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			pass, err := g.newPassphrase(o)
			if err != nil {
				return err
			}
			return g.withKeyLock(cmd.Context(), o, func(ctx context.Context, r *repo.Repository) error {
				k, err := r.ChangePassphrase(ctx, pass, 0)
				if err != nil {
					return err
				}
				return reportKeys(g, "changed the passphrase; new key", []repo.KeyInfo{k})
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.NewPasswordFile, "new-password-file", "", "file whose first line is the new passphrase (or set MILVAULT_NEW_PASSWORD)")
	addLockWaitFlag(f, &o.LockWait)
	return cmd
}
