package manifest

import (
	"slices"
	"strings"
)

// Matches reports whether collection c is the one ref names: "database.name"
// or a bare "name" in any database.
func (c *Collection) Matches(ref string) bool {
	return c.Name == ref || c.QualifiedName() == ref
}

// Lookup returns the backup's collections that ref names ("database.name",
// or "name" in any database, which may match several).
func (m *Manifest) Lookup(ref string) []*Collection {
	var out []*Collection
	for i := range m.Collections {
		if m.Collections[i].Matches(ref) {
			out = append(out, &m.Collections[i])
		}
	}
	return out
}

// Contains reports whether the backup holds the collection ref names
// ("database.name" or "name").
func (m *Manifest) Contains(ref string) bool {
	return slices.ContainsFunc(m.Collections, func(c Collection) bool { return c.Matches(ref) })
}

// CollectionSet names the backup's set of collections ("db.a,db.b", sorted):
// backups of the same selection are comparable, e.g. for retention.
func (m *Manifest) CollectionSet() string {
	names := make([]string, 0, len(m.Collections))
	for _, c := range m.Collections {
		names = append(names, c.QualifiedName())
	}
	slices.Sort(names)
	return strings.Join(names, ",")
}
