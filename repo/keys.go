package repo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"filippo.io/age"

	"github.com/milvault/milvault/errkind"
)

// keyPrefix holds the key files: the repository identity wrapped to one
// user key each (docs/encryption.md).
const keyPrefix = "keys/"

// Key types.
const (
	KeyPassphrase = "passphrase"
	KeyRecipient  = "x25519"
)

// KeySpec names the user keys that may unlock a repository: a passphrase
// and/or age X25519 recipients ("age1..."). Each becomes one key file.
type KeySpec struct {
	Passphrase string
	Recipients []string
	// ScryptWorkFactor is the log2 scrypt cost of a passphrase key; 0 means
	// age's default (18, about a second). Tests lower it.
	ScryptWorkFactor int
}

// Credentials are what a reader offers to unlock a repository.
type Credentials struct {
	Identities []age.Identity
	Passphrase string
}

// Empty reports whether no key is offered.
func (c Credentials) Empty() bool { return len(c.Identities) == 0 && c.Passphrase == "" }

// KeyInfo describes one key file. Recipient is the public X25519 recipient
// of a recipient key ("" for a passphrase).
type KeyInfo struct {
	ID        string    `json:"id"`
	Type      string    `json:"type"`
	Recipient string    `json:"recipient,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// keyFile is a stored key file: its description and the repository
// identity encrypted with age to that one key.
type keyFile struct {
	KeyInfo
	Wrapped []byte `json:"wrapped"`
}

func keyPath(id string) string { return keyPrefix + id + ".json" }

// InitEncrypted creates an encrypted repository in s (refusing what Init
// refuses): a new random X25519 repository identity whose public
// recipient goes into config.json, and one key file per key of spec. The
// returned repository is unlocked.
func InitEncrypted(ctx context.Context, s Store, spec KeySpec) (*Repository, error) {
	return InitWith(ctx, s, InitOptions{Encrypt: &spec})
}

// initEncrypted is InitWith for an encrypted repository (o.Encrypt set).
func initEncrypted(ctx context.Context, s Store, o InitOptions) (*Repository, error) {
	spec := *o.Encrypt
	if err := spec.validate(); err != nil {
		return nil, err
	}
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return nil, fmt.Errorf("create repository key: %w", err)
	}
	enc := &Encryption{Scheme: EncryptionScheme, Recipient: id.Recipient().String()}
	return initWith(ctx, s, o, enc, func(r *Repository) error {
		r.crypt.identity = id
		_, err := r.writeKeys(ctx, spec)
		return err
	})
}

// InitLike creates a repository in s that shares src's encryption: the
// same public recipient and copies of src's key files, so that ciphertext
// copied from src reads in it with the same keys. It needs no key. A plain
// src gives a plain repository.
func InitLike(ctx context.Context, s Store, src *Repository) (*Repository, error) {
	if !src.Encrypted() {
		return Init(ctx, s)
	}
	enc := *src.cfg.Encryption
	return initWith(ctx, s, InitOptions{}, &enc, func(r *Repository) error {
		r.crypt.identity = src.crypt.identity
		files, err := src.store.List(ctx, keyPrefix)
		if err != nil {
			return err
		}
		for _, f := range files {
			if err := copyStored(ctx, src.store, s, f.Name); err != nil {
				return err
			}
		}
		return nil
	})
}

// copyStored copies the stored bytes of name from one store to another.
func copyStored(ctx context.Context, from, to Store, name string) error {
	rc, err := from.Open(ctx, name)
	if err != nil {
		return err
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		return err
	}
	return to.Put(ctx, name, bytes.NewReader(data))
}

func (spec KeySpec) validate() error {
	if spec.Passphrase == "" && len(spec.Recipients) == 0 {
		return errkind.New(errkind.Usage, "an encrypted repository needs a passphrase (MILVAULT_PASSWORD, --password-file or the prompt) or at least one --recipient")
	}
	for _, rc := range spec.Recipients {
		if _, err := age.ParseX25519Recipient(rc); err != nil {
			return errkind.New(errkind.Usage, "recipient %q is not an age X25519 recipient (age1..., from age-keygen -y): %v", rc, err)
		}
	}
	return nil
}

// writeKeys wraps the unlocked repository identity to every key of spec.
func (r *Repository) writeKeys(ctx context.Context, spec KeySpec) ([]KeyInfo, error) {
	secret := []byte(r.crypt.identity.(*age.X25519Identity).String())
	var out []KeyInfo
	add := func(info KeyInfo, to age.Recipient) error {
		var buf bytes.Buffer
		w, err := age.Encrypt(&buf, to)
		if err == nil {
			_, err = w.Write(secret)
		}
		if err == nil {
			err = w.Close()
		}
		if err != nil {
			return fmt.Errorf("wrap repository key: %w", err)
		}
		data, _ := json.MarshalIndent(keyFile{KeyInfo: info, Wrapped: buf.Bytes()}, "", "  ")
		if err := r.store.Put(r.retained(ctx), keyPath(info.ID), bytes.NewReader(data)); err != nil {
			return fmt.Errorf("store key %s: %w", info.ID, err)
		}
		out = append(out, info)
		return nil
	}
	now := r.now().UTC()
	if spec.Passphrase != "" {
		sr, err := age.NewScryptRecipient(spec.Passphrase)
		if err != nil {
			return nil, errkind.New(errkind.Usage, "passphrase: %v", err)
		}
		if spec.ScryptWorkFactor > 0 {
			sr.SetWorkFactor(spec.ScryptWorkFactor)
		}
		if err := add(KeyInfo{ID: "passphrase-" + randomHex(4), Type: KeyPassphrase, CreatedAt: now}, sr); err != nil {
			return out, err
		}
	}
	for _, s := range spec.Recipients {
		rc, _ := age.ParseX25519Recipient(s)
		if err := add(KeyInfo{ID: "x25519-" + randomHex(4), Type: KeyRecipient, Recipient: s, CreatedAt: now}, rc); err != nil {
			return out, err
		}
	}
	return out, nil
}

// Keys lists the key files, oldest first. It needs no key.
func (r *Repository) Keys(ctx context.Context) ([]KeyInfo, error) {
	files, err := r.keyFiles(ctx)
	out := make([]KeyInfo, 0, len(files))
	for _, f := range files {
		out = append(out, f.KeyInfo)
	}
	return out, err
}

func (r *Repository) keyFiles(ctx context.Context) ([]keyFile, error) {
	names, err := r.store.List(ctx, keyPrefix)
	if err != nil {
		return nil, fmt.Errorf("list keys of %s: %w", r.store.Location(), err)
	}
	var out []keyFile
	for _, n := range names {
		var kf keyFile
		if err := readJSON(ctx, r.store, n.Name, &kf); err != nil {
			return nil, fmt.Errorf("read key %s: %w", n.Name, err)
		}
		out = append(out, kf)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	return out, nil
}

func readJSON(ctx context.Context, s Store, name string, v any) error {
	rc, err := s.Open(ctx, name)
	if err != nil {
		return err
	}
	defer rc.Close()
	return json.NewDecoder(rc).Decode(v)
}

// Unlock finds the key file that one of c's keys opens and keeps the
// repository identity it holds, so that the repository can read. It returns
// a *KeyError when c is empty or no key file opens. A plain repository
// needs nothing and ignores c.
func (r *Repository) Unlock(ctx context.Context, c Credentials) error {
	if r.crypt == nil || r.crypt.identity != nil {
		return nil
	}
	if c.Empty() {
		return &KeyError{Location: r.store.Location(), Need: "this"}
	}
	ids := append([]age.Identity(nil), c.Identities...)
	if c.Passphrase != "" {
		si, err := age.NewScryptIdentity(c.Passphrase)
		if err != nil {
			return errkind.New(errkind.Usage, "passphrase: %v", err)
		}
		ids = append(ids, si)
	}
	files, err := r.keyFiles(ctx)
	if err != nil {
		return err
	}
	for _, kf := range files {
		if !c.offers(kf) {
			continue
		}
		if id, ok := r.tryKey(kf, ids); ok {
			r.crypt.identity = id
			return nil
		}
	}
	return &KeyError{Location: r.store.Location(), Wrong: true}
}

// offers reports whether c could open kf at all, so that a passphrase is
// not tried (a second of scrypt each) against recipient keys.
func (c Credentials) offers(kf keyFile) bool {
	if kf.Type == KeyPassphrase {
		return c.Passphrase != ""
	}
	return len(c.Identities) > 0
}

// tryKey opens kf with ids and checks that it holds this repository's
// identity.
func (r *Repository) tryKey(kf keyFile, ids []age.Identity) (age.Identity, bool) {
	pr, err := age.Decrypt(bytes.NewReader(kf.Wrapped), ids...)
	if err != nil {
		return nil, false
	}
	secret, err := io.ReadAll(pr)
	if err != nil {
		return nil, false
	}
	id, err := age.ParseX25519Identity(strings.TrimSpace(string(secret)))
	if err != nil || id.Recipient().String() != r.cfg.Encryption.Recipient {
		return nil, false
	}
	return id, true
}

// AddKeys adds a key file for every key of spec. The repository must be
// unlocked. Only key files are written: data, manifests and proofs stay as
// they are.
func (r *Repository) AddKeys(ctx context.Context, spec KeySpec) ([]KeyInfo, error) {
	if err := r.keyChange(); err != nil {
		return nil, err
	}
	if err := spec.validate(); err != nil {
		return nil, err
	}
	return r.writeKeys(ctx, spec)
}

func (r *Repository) keyChange() error {
	if r.crypt == nil {
		return errkind.New(errkind.Usage, "repository %s is not encrypted, so it has no keys: create an encrypted repository with `milvault init --encrypt` and take new backups into it", r.store.Location())
	}
	return r.needKey("changing keys")
}

// RemoveKey deletes key file id. It refuses to delete the last key, which
// would leave the repository unreadable. It needs no key: deleting a key
// file reveals nothing.
func (r *Repository) RemoveKey(ctx context.Context, id string) error {
	if r.crypt == nil {
		return r.keyChange()
	}
	keys, err := r.Keys(ctx)
	if err != nil {
		return err
	}
	var ids []string
	found := false
	for _, k := range keys {
		ids = append(ids, k.ID)
		found = found || k.ID == id
	}
	if !found {
		return errkind.New(errkind.NotFound, "key %q not found; keys: %s", id, strings.Join(ids, ", "))
	}
	if len(keys) == 1 {
		return errkind.New(errkind.Conflict, "key %s is the repository's last key: add another first (milvault key add), or nobody could read the backups", id)
	}
	return r.store.Delete(ctx, keyPath(id))
}

// ChangePassphrase adds a key for passphrase and then removes every other
// passphrase key. The repository must be unlocked.
func (r *Repository) ChangePassphrase(ctx context.Context, passphrase string, workFactor int) (KeyInfo, error) {
	if passphrase == "" {
		return KeyInfo{}, errkind.New(errkind.Usage, "the new passphrase is empty")
	}
	added, err := r.AddKeys(ctx, KeySpec{Passphrase: passphrase, ScryptWorkFactor: workFactor})
	if err != nil {
		return KeyInfo{}, err
	}
	keys, err := r.Keys(ctx)
	if err != nil {
		return added[0], err
	}
	for _, k := range keys {
		if k.Type == KeyPassphrase && k.ID != added[0].ID {
			if err := r.store.Delete(ctx, keyPath(k.ID)); err != nil {
				return added[0], fmt.Errorf("remove old passphrase key %s: %w", k.ID, err)
			}
		}
	}
	return added[0], nil
}

// ParseIdentities reads age identities (AGE-SECRET-KEY-1... lines, comments
// allowed) from an identity file's content.
func ParseIdentities(r io.Reader) ([]age.Identity, error) {
	ids, err := age.ParseIdentities(r)
	if err != nil {
		return nil, errkind.New(errkind.Usage, "identity file: %v", err)
	}
	return ids, nil
}

// ParseRecipients reads X25519 recipients (age1... lines; # comments and
// blank lines ignored) from a recipients file's content.
func ParseRecipients(r io.Reader) ([]string, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	var out []string
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if _, err := age.ParseX25519Recipient(line); err != nil {
			return nil, errkind.New(errkind.Usage, "recipients file line %d: not an age X25519 recipient (age1...)", i+1)
		}
		out = append(out, line)
	}
	if len(out) == 0 {
		return nil, errors.New("the recipients file names no recipient")
	}
	return out, nil
}
