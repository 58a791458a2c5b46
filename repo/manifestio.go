package repo

import (
	"fmt"
	"time"

	"github.com/milvault/milvault/manifest"
)

// publicManifest is what a manifest of an encrypted repository shows
// without the key: enough to list, prune by time, verify stored checksums
// and copy the backup, nothing about its content.
type publicManifest struct {
	FormatVersion int             `json:"format_version"`
	ID            string          `json:"id"`
	CreatedAt     time.Time       `json:"created_at"`
	CompletedAt   time.Time       `json:"completed_at"`
	Files         []manifest.File `json:"files"`
}

// encodeManifest returns the stored form of m.
func (r *Repository) encodeManifest(m *manifest.Manifest) ([]byte, error) {
	plain, err := manifest.Encode(m)
	if err != nil || r.crypt == nil {
		return plain, err
	}
	pub := publicManifest{FormatVersion: m.FormatVersion, ID: m.ID, CreatedAt: m.CreatedAt, CompletedAt: m.CompletedAt}
	for _, f := range m.Files() {
		pub.Files = append(pub.Files, manifest.File{Path: f.Path, Size: f.Size, Checksum: f.Checksum})
	}
	return r.encodeRecord(rawJSON(plain), pub)
}

// rawJSON is an already encoded JSON document.
type rawJSON []byte

// MarshalJSON returns the document.
func (j rawJSON) MarshalJSON() ([]byte, error) { return j, nil }

// decodeManifest reads the stored form of manifest name: the whole
// manifest, or in an encrypted repository without its key only the
// public part (Sealed set).
func (r *Repository) decodeManifest(name string, data []byte) (*manifest.Manifest, error) {
	if r.crypt != nil {
		var pub publicManifest
		sealed, plain, err := r.openRecord(name, data, &pub)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if sealed {
			return &manifest.Manifest{FormatVersion: pub.FormatVersion, ID: pub.ID, CreatedAt: pub.CreatedAt, CompletedAt: pub.CompletedAt, Sealed: true, Stored: pub.Files}, nil
		}
		data = plain
	}
	m, err := manifest.Decode(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return m, nil
}
