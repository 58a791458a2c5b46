package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/milvault/milvault/checksum"
)

// MalformedError reports a manifest that cannot be trusted.
type MalformedError struct{ Err error }

func (e *MalformedError) Error() string { return "malformed manifest: " + e.Err.Error() }
func (e *MalformedError) Unwrap() error { return e.Err }

// Encode renders m as indented JSON.
func Encode(m *Manifest) ([]byte, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return json.MarshalIndent(m, "", "  ")
}

// Decode parses and validates a manifest. Unknown fields are rejected so that
// a damaged or foreign document is not mistaken for a backup.
func Decode(data []byte) (*Manifest, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var m Manifest
	if err := dec.Decode(&m); err != nil {
		return nil, &MalformedError{Err: err}
	}
	if dec.More() {
		return nil, &MalformedError{Err: errors.New("trailing data after the JSON document")}
	}
	if m.FormatVersion > FormatVersion {
		return nil, fmt.Errorf("manifest format version %d is newer than this milvault understands (%d): upgrade milvault", m.FormatVersion, FormatVersion)
	}
	if err := m.Validate(); err != nil {
		return nil, &MalformedError{Err: err}
	}
	return &m, nil
}

// Validate checks the invariants readers rely on: ids and names are safe,
// every file has a safe path inside this backup's data folder, a valid
// checksum, and row counts add up.
func (m *Manifest) Validate() error {
	if m.FormatVersion < 1 {
		return fmt.Errorf("format_version %d: want >= 1", m.FormatVersion)
	}
	if err := ValidateRef("id", m.ID); err != nil {
		return err
	}
	if m.Name != "" {
		if err := ValidateRef("name", m.Name); err != nil {
			return err
		}
	}
	if len(m.Collections) == 0 {
		return errors.New("no collections")
	}
	seen := map[string]bool{}
	for i := range m.Collections {
		if err := m.validateCollection(&m.Collections[i], seen); err != nil {
			return err
		}
	}
	return nil
}

func (m *Manifest) validateCollection(c *Collection, seen map[string]bool) error {
	if c.Database == "" || c.Name == "" {
		return errors.New("collection without database or name")
	}
	if len(c.Schema) == 0 {
		return fmt.Errorf("collection %s: no schema", c.QualifiedName())
	}
	if m.IsNative() {
		return validateSegments(c)
	}
	var rows int64
	for _, p := range c.Partitions {
		var prow int64
		for _, f := range p.Files {
			if err := m.validateFile(f, seen); err != nil {
				return fmt.Errorf("collection %s partition %s: %w", c.QualifiedName(), p.Name, err)
			}
			prow += f.Rows
		}
		if prow != p.Rows {
			return fmt.Errorf("collection %s partition %s: files hold %d rows, partition says %d", c.QualifiedName(), p.Name, prow, p.Rows)
		}
		rows += p.Rows
	}
	if rows != c.Rows {
		return fmt.Errorf("collection %s: partitions hold %d rows, collection says %d", c.QualifiedName(), rows, c.Rows)
	}
	return nil
}

func (m *Manifest) validateFile(f File, seen map[string]bool) error {
	prefix := DataPrefix(m.ID)
	clean := path.Clean(f.Path)
	if clean != f.Path || !strings.HasPrefix(f.Path, prefix) || strings.Contains(f.Path, "..") {
		return fmt.Errorf("file path %q is outside %s", f.Path, prefix)
	}
	if seen[f.Path] {
		return fmt.Errorf("file %s listed twice", f.Path)
	}
	seen[f.Path] = true
	if f.Size < 0 || f.Rows < 0 {
		return fmt.Errorf("file %s: negative size or rows", f.Path)
	}
	if _, _, err := checksum.ParseDigest(f.Checksum); err != nil {
		return fmt.Errorf("file %s: %w", f.Path, err)
	}
	return nil
}

// DataPrefix is the folder that holds the data files of backup id.
func DataPrefix(id string) string { return "data/" + id + "/" }

// Path is the store name of backup id's manifest.
func Path(id string) string { return "manifests/" + id + ".json" }
