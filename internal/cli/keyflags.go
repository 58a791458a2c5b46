package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/milvault/milvault/repo"
)

// passwordEnv holds the passphrase of an encrypted repository. It is read
// from the environment only: a --password flag would show the secret to
// every user of the machine in the process list.
const passwordEnv = "MILVAULT_PASSWORD"

// keyFlags are the global options that give the key of an encrypted
// repository (docs/encryption.md). They name files, never secrets.
type keyFlags struct {
	IdentityFile string
	PasswordFile string
}

func (o *keyFlags) addFlags(f *pflag.FlagSet) {
	f.StringVar(&o.IdentityFile, "identity-file", "", "age identity file (AGE-SECRET-KEY-1...) that unlocks an encrypted repository")
	f.StringVar(&o.PasswordFile, "password-file", "", "file whose first line is the passphrase of an encrypted repository (or set MILVAULT_PASSWORD)")
}

// credentials reads the keys the options name.
func (g *GlobalOptions) credentials() (repo.Credentials, error) {
	var c repo.Credentials
	if g.IdentityFile != "" {
		f, err := os.Open(g.IdentityFile)
		if err != nil {
			return c, usageErrorf("--identity-file: %v", err)
		}
		defer f.Close()
		if c.Identities, err = repo.ParseIdentities(f); err != nil {
			return c, err
		}
	}
	pass, err := g.passphrase()
	c.Passphrase = pass
	return c, err
}

// passphrase returns the passphrase of --password-file or MILVAULT_PASSWORD
// ("" when neither is set).
func (g *GlobalOptions) passphrase() (string, error) {
	if g.PasswordFile != "" {
		return readPasswordFile(g.PasswordFile)
	}
	return os.Getenv(passwordEnv), nil
}

func readPasswordFile(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", usageErrorf("--password-file: %v", err)
	}
	line, _, _ := strings.Cut(string(data), "\n")
	line = strings.TrimSuffix(line, "\r")
	if line == "" {
		return "", usageErrorf("--password-file %s: the first line is empty", path)
	}
	return line, nil
}

// unlock unlocks r with the given keys, when it is encrypted and keys were
// given; without keys r stays locked and only what needs no key works.
func (g *GlobalOptions) unlock(ctx context.Context, r *repo.Repository) error {
	if !r.Encrypted() {
		return nil
	}
	c, err := g.credentials()
	if err != nil || c.Empty() {
		return err
	}
	return r.Unlock(ctx, c)
}

// promptPassphrase asks for a new passphrase twice on the terminal.
func (g *GlobalOptions) promptPassphrase() (string, error) {
	fd := int(os.Stdin.Fd())
	if g.stdin != os.Stdin || !term.IsTerminal(fd) {
		return "", usageErrorf("no passphrase: set MILVAULT_PASSWORD or --password-file, give --recipient, or run on a terminal to be asked")
	}
	fmt.Fprint(g.stderr, "new repository passphrase: ")
	p1, err := term.ReadPassword(fd)
	fmt.Fprintln(g.stderr)
	if err != nil {
		return "", err
	}
	fmt.Fprint(g.stderr, "repeat the passphrase: ")
	p2, err := term.ReadPassword(fd)
	fmt.Fprintln(g.stderr)
	if err != nil {
		return "", err
	}
	if !bytes.Equal(p1, p2) || len(p1) == 0 {
		return "", usageErrorf("the passphrases are empty or differ; nothing was created")
	}
	return string(p1), nil
}

// encryptFlags are the flags of the commands that create a repository
// (init, backup --init): whether to encrypt it, and with which keys.
type encryptFlags struct {
	Encrypt        bool
	Recipients     []string
	RecipientsFile string
}

func (o *encryptFlags) addFlags(f *pflag.FlagSet) {
	f.BoolVar(&o.Encrypt, "encrypt", false, "create the repository encrypted (age): with the passphrase of MILVAULT_PASSWORD, --password-file or a prompt, and/or --recipient keys")
	f.StringSliceVar(&o.Recipients, "recipient", nil, "age X25519 recipient (age1...) that may read the encrypted repository (repeatable)")
	f.StringVar(&o.RecipientsFile, "recipients-file", "", "file of age X25519 recipients, one per line, that may read the encrypted repository")
}

// keySpec gathers the keys of a new encrypted repository: the recipients
// given, and the passphrase of MILVAULT_PASSWORD or --password-file, else
// (without recipients) one asked on the terminal.
func (g *GlobalOptions) keySpec(o encryptFlags, withPassphrase bool) (repo.KeySpec, error) {
	spec := repo.KeySpec{Recipients: o.Recipients}
	if o.RecipientsFile != "" {
		f, err := os.Open(o.RecipientsFile)
		if err != nil {
			return spec, usageErrorf("--recipients-file: %v", err)
		}
		defer f.Close()
		more, err := repo.ParseRecipients(f)
		if err != nil {
			return spec, usageErrorf("--recipients-file %s: %v", o.RecipientsFile, err)
		}
		spec.Recipients = append(spec.Recipients, more...)
	}
	if !withPassphrase {
		return spec, nil
	}
	pass, err := g.passphrase()
	if err != nil {
		return spec, err
	}
	if pass == "" && len(spec.Recipients) == 0 {
		if pass, err = g.promptPassphrase(); err != nil {
			return spec, err
		}
	}
	spec.Passphrase = pass
	return spec, nil
}
