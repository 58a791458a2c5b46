package repo

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"filippo.io/age"

	"github.com/milvault/milvault/errkind"
	"github.com/milvault/milvault/manifest"
)

// RepositoryVersion is the newest version of the repository layout (see
// docs/repository-format.md). Readers refuse newer versions. Plain
// repositories are still written as version 1, so older milvault builds
// keep reading them; encrypted ones are version 2, which older builds
// refuse instead of misreading.
const RepositoryVersion = 2

// plainVersion is the layout version of unencrypted repositories.
const plainVersion = 1

const configName = "config.json"

// Config is the repository's own descriptor, written once at init.
type Config struct {
	Format    string    `json:"format"` // always "milvault-repository"
	Version   int       `json:"version"`
	ID        string    `json:"id"`
	CreatedAt time.Time `json:"created_at"`
	// Encryption is set in an encrypted repository (version 2).
	Encryption *Encryption `json:"encryption,omitempty"`
	// ObjectLock, when set, keeps every file milvault writes for a
	// retention period (see ObjectLock).
	ObjectLock *ObjectLock `json:"object_lock,omitempty"`
}

// InitOptions are the settings a repository is created with.
type InitOptions struct {
	ObjectLock *ObjectLock // nil: no retention
	// Encrypt, when set, creates an encrypted repository with these keys
	// (see InitEncrypted).
	Encrypt *KeySpec
}

// NoRepositoryError reports a location that holds no milvault repository.
type NoRepositoryError struct {
	Location string
	Foreign  bool     // the location holds other files
	Found    []string // a few of those files, for the message
	Missing  bool     // the location does not exist (set by callers that can tell)
}

func (e *NoRepositoryError) Error() string {
	if e.Foreign {
		return fmt.Sprintf("%s is not a milvault repository: it holds other files (%s) and no %s; check --repo, or choose an empty or new location and run `milvault init`",
			e.Location, strings.Join(e.Found, ", "), configName)
	}
	found := "the location is empty"
	if e.Missing {
		found = "it does not exist"
	}
	return fmt.Sprintf("no milvault repository at %s (%s): check --repo for a typo, or create one with `milvault init`", e.Location, found)
}

// ExistsError reports an init where a repository already is.
type ExistsError struct{ Location string }

func (e *ExistsError) Error() string {
	return fmt.Sprintf("%s already holds a milvault repository; nothing was changed", e.Location)
}

// BackupNotFoundError reports an unknown backup id or name.
type BackupNotFoundError struct {
	Ref       string
	Available []string // ids (and names) of committed backups, newest first
}

func (e *BackupNotFoundError) Error() string {
	if len(e.Available) == 0 {
		return fmt.Sprintf("backup %q not found: the repository has no backups", e.Ref)
	}
	avail := e.Available
	if len(avail) > 10 {
		avail = append(avail[:10:10], fmt.Sprintf("... %d more (milvault list)", len(e.Available)-10))
	}
	return fmt.Sprintf("backup %q not found; available: %s", e.Ref, strings.Join(avail, ", "))
}

// Repository lays backups out in a Store.
type Repository struct {
	store Store
	cfg   Config
	now   func() time.Time
	crypt *crypt // nil in a plain repository
}

// WithClock returns a Repository over the same store that reads the time
// from now (lock and pending-marker times, staleness), for tests with a fake
// clock. r itself is unchanged.
func (r *Repository) WithClock(now func() time.Time) *Repository {
	c := *r
	c.now = now
	return &c
}

// Config returns the repository descriptor.
func (r *Repository) Config() Config { return r.cfg }

// Open opens an existing repository.
func Open(ctx context.Context, s Store) (*Repository, error) {
	rc, err := s.Open(ctx, configName)
	if errors.Is(err, ErrNotFound) {
		files, lerr := s.List(ctx, "")
		if lerr != nil {
			return nil, fmt.Errorf("open repository %s: %w", s.Location(), lerr)
		}
		return nil, noRepository(s.Location(), files)
	}
	if err != nil {
		return nil, fmt.Errorf("open repository %s: %w", s.Location(), err)
	}
	defer rc.Close()
	var cfg Config
	if err := json.NewDecoder(rc).Decode(&cfg); err != nil || cfg.Format != "milvault-repository" {
		return nil, fmt.Errorf("%s/%s is damaged or not a milvault repository descriptor", s.Location(), configName)
	}
	if cfg.Version > RepositoryVersion {
		return nil, fmt.Errorf("repository %s has layout version %d, newer than this milvault supports (%d): upgrade milvault", s.Location(), cfg.Version, RepositoryVersion)
	}
	return newRepository(s, cfg)
}

// newRepository returns the repository described by cfg.
func newRepository(s Store, cfg Config) (*Repository, error) {
	r := &Repository{store: s, cfg: cfg, now: time.Now}
	if cfg.Encryption == nil {
		return r, nil
	}
	if cfg.Encryption.Scheme != EncryptionScheme {
		return nil, fmt.Errorf("repository %s is encrypted with scheme %q, which this milvault does not know: upgrade milvault", s.Location(), cfg.Encryption.Scheme)
	}
	rc, err := age.ParseX25519Recipient(cfg.Encryption.Recipient)
	if err != nil {
		return nil, fmt.Errorf("%s/%s is damaged: its encryption recipient is not an age recipient: %w", s.Location(), configName, err)
	}
	r.crypt = &crypt{recipient: rc}
	return r, nil
}

// noRepository describes a location without a repository descriptor.
func noRepository(loc string, files []FileInfo) *NoRepositoryError {
	e := &NoRepositoryError{Location: loc, Foreign: len(files) > 0}
	for i, f := range files {
		if i == 3 {
			e.Found = append(e.Found, fmt.Sprintf("%d more", len(files)-3))
			break
		}
		e.Found = append(e.Found, f.Name)
	}
	return e
}

// Init creates a repository in s. It refuses a location that already holds
// a repository (*ExistsError) or other files (*NoRepositoryError with
// Foreign set), so that a typo never mixes backups into unrelated data.
func Init(ctx context.Context, s Store) (*Repository, error) {
	return InitWith(ctx, s, InitOptions{})
}

// InitWith is Init with settings.
func InitWith(ctx context.Context, s Store, o InitOptions) (*Repository, error) {
	if o.Encrypt != nil {
		return initEncrypted(ctx, s, o)
	}
	return initWith(ctx, s, o, nil, nil)
}

// initWith creates a repository with encryption enc (nil: plain), calling
// setup before the descriptor is written (config.json comes last, so that
// a failed setup leaves no repository behind).
func initWith(ctx context.Context, s Store, o InitOptions, enc *Encryption, setup func(*Repository) error) (*Repository, error) {
	_, err := Open(ctx, s)
	var nre *NoRepositoryError
	switch {
	case err == nil:
		return nil, &ExistsError{Location: s.Location()}
	case !errors.As(err, &nre) || nre.Foreign:
		return nil, err
	}
	cfg := Config{Format: "milvault-repository", Version: plainVersion, ID: randomHex(8), CreatedAt: time.Now().UTC(), Encryption: enc, ObjectLock: o.ObjectLock}
	if enc != nil {
		cfg.Version = RepositoryVersion
	}
	r, err := newRepository(s, cfg)
	if err != nil {
		return nil, err
	}
	if setup != nil {
		if err := setup(r); err != nil {
			_ = s.DeleteAll(context.WithoutCancel(ctx), keyPrefix)
			return nil, fmt.Errorf("create repository %s: %w", s.Location(), err)
		}
	}
	data, _ := json.MarshalIndent(cfg, "", "  ")
	if err := s.Put(r.retained(ctx), configName, bytes.NewReader(data)); err != nil {
		return nil, fmt.Errorf("create repository %s: %w", s.Location(), err)
	}
	return r, nil
}

// RemoveIfEmpty removes the repository descriptor (and the key files of an
// encrypted repository) when they are the only files in the store, undoing
// Init, and reports whether it did. A command that
// created a repository for an operation that then failed uses it to leave
// nothing behind; a repository holding anything else (a backup, a lock, a
// marker) is left as it is.
func (r *Repository) RemoveIfEmpty(ctx context.Context) (bool, error) {
	files, err := r.store.List(ctx, "")
	if err != nil {
		return false, fmt.Errorf("look into repository %s: %w", r.store.Location(), err)
	}
	for _, f := range files {
		if f.Name != configName && !strings.HasPrefix(f.Name, keyPrefix) {
			return false, nil
		}
	}
	if err := r.store.Delete(ctx, configName); err != nil {
		return false, fmt.Errorf("remove repository %s: %w", r.store.Location(), err)
	}
	if err := r.store.DeleteAll(ctx, keyPrefix); err != nil {
		return false, fmt.Errorf("remove repository %s: %w", r.store.Location(), err)
	}
	return true, nil
}

// OpenOrInit opens the repository in s, creating it when s is empty. It is
// meant for tests and programs that own their location; the command line
// requires an explicit init.
func OpenOrInit(ctx context.Context, s Store) (*Repository, error) {
	r, err := Open(ctx, s)
	var nre *NoRepositoryError
	if !errors.As(err, &nre) || nre.Foreign {
		return r, err
	}
	return Init(ctx, s)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// NewID returns a new backup id: the UTC start time and a random suffix, so
// that ids sort by time.
func (r *Repository) NewID() string {
	return r.now().UTC().Format("20060102T150405Z") + "-" + randomHex(3)
}

// List returns the committed backups, newest first. Manifests that cannot
// be read are reported in problems and left out of the list.
func (r *Repository) List(ctx context.Context) (backups []*manifest.Manifest, problems []error, err error) {
	files, err := r.store.List(ctx, "manifests/")
	if err != nil {
		return nil, nil, fmt.Errorf("list backups in %s: %w", r.store.Location(), err)
	}
	for _, f := range files {
		if !strings.HasSuffix(f.Name, ".json") {
			continue
		}
		m, err := r.load(ctx, f.Name)
		if err != nil {
			problems = append(problems, err)
			continue
		}
		backups = append(backups, m)
	}
	sort.SliceStable(backups, func(i, j int) bool { return backups[i].CreatedAt.After(backups[j].CreatedAt) })
	return backups, problems, nil
}

func (r *Repository) load(ctx context.Context, name string) (*manifest.Manifest, error) {
	data, err := r.readWhole(ctx, name)
	if err != nil {
		return nil, err
	}
	m, err := r.decodeManifest(name, data)
	if err != nil {
		return nil, err
	}
	if manifest.Path(m.ID) != name {
		return nil, fmt.Errorf("%s: %w", name, &manifest.MalformedError{Err: fmt.Errorf("it names backup %q", m.ID)})
	}
	return m, nil
}

// Find returns the backup whose id or name is ref.
func (r *Repository) Find(ctx context.Context, ref string) (*manifest.Manifest, error) {
	if err := manifest.ValidateRef("id or name", ref); err != nil {
		return nil, err
	}
	if m, err := r.load(ctx, manifest.Path(ref)); err == nil {
		return m, nil
	} else if !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	all, problems, err := r.List(ctx)
	if err != nil {
		return nil, err
	}
	for _, m := range all {
		if m.Name == ref {
			return m, nil
		}
	}
	nf := &BackupNotFoundError{Ref: ref}
	for _, m := range all {
		nf.Available = append(nf.Available, m.ID+nameSuffix(m.Name))
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%w (and %d unreadable manifests, first: %v)", nf, len(problems), problems[0])
	}
	return nil, nf
}

func nameSuffix(name string) string {
	if name == "" {
		return ""
	}
	return " (" + name + ")"
}

// CheckNameFree returns an error when a committed backup already uses name.
func (r *Repository) CheckNameFree(ctx context.Context, name string) error {
	if err := r.needKey("a backup name (names are encrypted, so a host without the key cannot check that one is free; leave out --name)"); err != nil {
		return err
	}
	all, _, err := r.List(ctx)
	if err != nil {
		return err
	}
	for _, m := range all {
		if m.Name == name {
			return errkind.New(errkind.Conflict, "a backup named %q already exists (%s): choose another --name or delete it first", name, m.ID)
		}
	}
	return nil
}

// Commit makes a backup visible by writing its manifest. Every file the
// manifest names must already be stored; Commit checks their sizes first.
// It sets CompletedAt unless the manifest has one (a copied backup).
func (r *Repository) Commit(ctx context.Context, m *manifest.Manifest) error {
	if m.Sealed {
		return fmt.Errorf("commit %s: %w", m.ID, r.needKey("writing a manifest read without the key"))
	}
	if err := r.checkStoredSizes(ctx, m); err != nil {
		return err
	}
	if m.Name != "" {
		if err := r.CheckNameFree(ctx, m.Name); err != nil {
			return err
		}
	}
	if m.CompletedAt.IsZero() { // a copied backup keeps its own
		m.CompletedAt = r.now().UTC()
	}
	data, err := r.encodeManifest(m)
	if err != nil {
		return fmt.Errorf("commit %s: %w", m.ID, err)
	}
	if err := r.store.Put(r.retained(ctx), manifest.Path(m.ID), bytes.NewReader(data)); err != nil {
		return fmt.Errorf("commit %s: %w", m.ID, err)
	}
	if m.Name != "" {
		if err := r.keepName(ctx, m); err != nil {
			return err
		}
	}
	return r.store.Delete(ctx, pendingPath(m.ID))
}

// keepName checks, after m's manifest was written, that no other backup
// took m's name meanwhile: backups run under shared locks, so two with one
// name can pass CheckNameFree together. When another one holds the name, m
// withdraws its manifest and fails; of two racing backups at least one
// sees the other, so never both commit (both may fail, and a reader may
// glimpse the withdrawn manifest for that moment).
func (r *Repository) keepName(ctx context.Context, m *manifest.Manifest) error {
	all, _, err := r.List(ctx)
	if err == nil {
		for _, o := range all {
			if o.Name == m.Name && o.ID != m.ID {
				err = errkind.New(errkind.Conflict, "backup %s named %q was committed meanwhile by another backup: choose another --name or delete it first", o.ID, m.Name)
				break
			}
		}
	}
	if err == nil {
		return nil
	}
	if derr := r.store.Delete(context.WithoutCancel(ctx), manifest.Path(m.ID)); derr != nil {
		return fmt.Errorf("%w (and withdrawing manifest %s failed: %v; delete backup %s)", err, m.ID, derr, m.ID)
	}
	return err
}

// Delete removes a committed backup: its manifest first, so that it is never
// half-visible, then its data files. A backup still under the repository's
// object lock is refused with a *RetainedError before anything is removed. It takes the repository's exclusive
// lock: held, which must be an exclusive lock on r, or when held is nil
// one of its own for the time it runs (failing at once when any other lock,
// in this process or another, is held).
func (r *Repository) Delete(ctx context.Context, held *Lock, id string) error {
	if err := manifest.ValidateRef("id", id); err != nil {
		return err
	}
	l, ctx, release, err := r.Hold(ctx, held, LockOptions{Exclusive: true, Operation: "delete"})
	if err != nil {
		return err
	}
	defer release()
	if err := r.CheckDeletable(ctx, id); err != nil {
		return err
	}
	if err := r.store.Delete(ctx, manifest.Path(id)); err != nil {
		return fmt.Errorf("delete backup %s: %w", id, err)
	}
	if err := r.deleteData(ctx, id); err != nil {
		return err
	}
	if err := r.deletePrefix(ctx, proofPrefix(id)); err != nil {
		return err
	}
	// Segment files of native backups are shared: only those no remaining
	// backup names go (see CollectBlobs).
	if _, err := r.CollectBlobs(ctx, l); err != nil {
		return fmt.Errorf("backup %s deleted, but %w", id, err)
	}
	return nil
}

func (r *Repository) deleteData(ctx context.Context, id string) error {
	if err := r.deletePrefix(ctx, manifest.DataPrefix(id)); err != nil {
		return fmt.Errorf("delete data of %s: %w", id, err)
	}
	return nil
}

// deletePrefix removes every file under prefix (a folder ending in "/").
func (r *Repository) deletePrefix(ctx context.Context, prefix string) error {
	return r.store.DeleteAll(ctx, prefix)
}
