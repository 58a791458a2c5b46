package repo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"filippo.io/age"

	"github.com/milvault/milvault/errkind"
)

// EncryptionScheme names the only encryption scheme: every stored file
// but config.json and keys/ is an age file encrypted to the repository's
// own X25519 recipient (docs/encryption.md).
const EncryptionScheme = "age-envelope-v1"

// Encryption is the plain description of an encrypted repository in
// config.json: the scheme and the repository's public age recipient, which
// every writer encrypts to. It holds no secret.
type Encryption struct {
	Scheme    string `json:"scheme"`
	Recipient string `json:"recipient"`
}

// crypt seals and opens stored files of an encrypted repository. The
// recipient is always known (config.json); the identity only once the
// repository was unlocked with a key (see Unlock).
type crypt struct {
	recipient age.Recipient
	identity  age.Identity
}

// KeyError reports an encrypted repository that could not be read: no key
// was given, or none of the given keys opens it.
type KeyError struct {
	Location string
	Wrong    bool // keys were given, but none matches
	Need     string
}

func (e *KeyError) Error() string {
	if e.Wrong {
		return fmt.Sprintf("repository %s is encrypted and none of the given keys opens it: check --identity-file, --password-file or MILVAULT_PASSWORD (milvault key list shows which keys it has)", e.Location)
	}
	return fmt.Sprintf("repository %s is encrypted: %s needs its key; give --identity-file (MILVAULT_IDENTITY_FILE), --password-file or MILVAULT_PASSWORD", e.Location, e.Need)
}

// Kind classifies key errors for exit codes.
func (*KeyError) Kind() errkind.Kind { return errkind.Key }

// Encrypted reports whether the repository encrypts what it stores.
func (r *Repository) Encrypted() bool { return r.crypt != nil }

// Unlocked reports whether the repository can read what it stores: it is
// not encrypted, or it was unlocked with one of its keys.
func (r *Repository) Unlocked() bool { return r.crypt == nil || r.crypt.identity != nil }

// needKey returns a *KeyError when the repository cannot decrypt.
func (r *Repository) needKey(what string) error {
	if r.Unlocked() {
		return nil
	}
	return &KeyError{Location: r.store.Location(), Need: what}
}

// seal returns a writer that encrypts what is written to it into w; its
// Close finishes the age file. In a plain repository it passes bytes on.
func (r *Repository) seal(w io.Writer) (io.WriteCloser, error) {
	if r.crypt == nil {
		return nopCloser{w}, nil
	}
	return age.Encrypt(w, r.crypt.recipient)
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// unseal returns the plaintext of the stored bytes src. Decryption is
// authenticated: a changed byte makes a Read fail with a *ContentError.
func (r *Repository) unseal(name string, src io.Reader) (io.Reader, error) {
	if r.crypt == nil {
		return src, nil
	}
	if err := r.needKey("reading " + name); err != nil {
		return nil, err
	}
	s := &sourceReader{r: src}
	pr, err := age.Decrypt(s, r.crypt.identity)
	if err != nil {
		return nil, s.classify(name, err)
	}
	return authReader{name: name, r: pr, src: s}, nil
}

// sourceReader remembers the last error of reading the stored bytes, so
// that it is told apart from a decryption failure.
type sourceReader struct {
	r   io.Reader
	err error
}

func (s *sourceReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF {
		s.err = err
	}
	return n, err
}

// classify returns the store's own error when reading failed, else err as
// damage of the stored bytes.
func (s *sourceReader) classify(name string, err error) error {
	if s.err != nil {
		return s.err
	}
	return decryptError(name, err)
}

// authReader marks read errors of decryption as damage.
type authReader struct {
	name string
	r    io.Reader
	src  *sourceReader
}

func (a authReader) Read(p []byte) (int, error) {
	n, err := a.r.Read(p)
	if err != nil && err != io.EOF {
		err = a.src.classify(a.name, err)
	}
	return n, err
}

// decryptError describes a stored file that does not decrypt.
func decryptError(name string, err error) error {
	var nm *age.NoIdentityMatchError
	if errors.As(err, &nm) {
		return &ContentError{Path: name, Problem: "not encrypted to this repository's key (replaced or damaged): " + err.Error()}
	}
	return &ContentError{Path: name, Problem: "decryption failed, the stored bytes were changed or damaged: " + err.Error()}
}

// sealBytes encrypts a small payload.
func (r *Repository) sealBytes(plain []byte) ([]byte, error) {
	var buf bytes.Buffer
	w, err := r.seal(&buf)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(plain); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// unsealBytes decrypts a small payload.
func (r *Repository) unsealBytes(name string, sealed []byte) ([]byte, error) {
	pr, err := r.unseal(name, bytes.NewReader(sealed))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(pr)
}

// record is how a small JSON file (lock, pending marker, proof, manifest)
// is stored in an encrypted repository: Public holds only what a host
// without the key needs (times, sizes, opaque names), Sealed the whole
// document encrypted. A plain repository stores the document itself.
type record struct {
	Encrypted int             `json:"milvault_encrypted"`
	Public    json.RawMessage `json:"public"`
	Sealed    []byte          `json:"sealed"`
}

// putRecord stores the JSON document full under name; in an encrypted
// repository public (a copy of full without its secret parts, or nil)
// stays readable without the key.
func (r *Repository) putRecord(ctx context.Context, name string, full, public any) error {
	data, err := r.encodeRecord(full, public)
	if err != nil {
		return fmt.Errorf("encode %s: %w", name, err)
	}
	return r.store.Put(ctx, name, bytes.NewReader(data))
}

func (r *Repository) encodeRecord(full, public any) ([]byte, error) {
	plain, err := json.MarshalIndent(full, "", "  ")
	if err != nil || r.crypt == nil {
		return plain, err
	}
	rec := record{Encrypted: 1, Public: json.RawMessage("{}")}
	if public != nil {
		if rec.Public, err = json.Marshal(public); err != nil {
			return nil, err
		}
	}
	if rec.Sealed, err = r.sealBytes(plain); err != nil {
		return nil, err
	}
	return json.MarshalIndent(rec, "", "  ")
}

// getRecord reads the JSON document name into v: the whole document when
// the repository can decrypt it, else only its public part (and reports
// that with sealed true).
func (r *Repository) getRecord(ctx context.Context, name string, v any) (sealed bool, err error) {
	rc, err := r.store.Open(ctx, name)
	if err != nil {
		return false, err
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		return false, fmt.Errorf("read %s: %w", name, err)
	}
	return r.decodeRecord(name, data, v)
}

func (r *Repository) decodeRecord(name string, data []byte, v any) (sealed bool, err error) {
	if r.crypt == nil {
		return false, json.Unmarshal(data, v)
	}
	sealed, plain, err := r.openRecord(name, data, v)
	if err != nil || sealed {
		return sealed, err
	}
	return false, json.Unmarshal(plain, v)
}

// openRecord opens the stored record data of an encrypted repository: it
// returns the decrypted document when the repository is unlocked, else
// decodes the public part into public and reports sealed.
func (r *Repository) openRecord(name string, data []byte, public any) (sealed bool, plain []byte, err error) {
	var rec record
	if err := json.Unmarshal(data, &rec); err != nil || rec.Encrypted != 1 {
		return false, nil, &ContentError{Path: name, Problem: "not an encrypted record of this repository (damaged, or written without encryption)"}
	}
	if !r.Unlocked() {
		return true, nil, json.Unmarshal(rec.Public, public)
	}
	plain, err = r.unsealBytes(name, rec.Sealed)
	return false, plain, err
}
