package retention

import "github.com/milvault/milvault/manifest"

// LastCopies returns the collections (database.name) of m that no other
// backup in all holds: deleting m leaves no backup of them. A backup of some
// partitions of a collection counts as a backup of it.
func LastCopies(all []*manifest.Manifest, m *manifest.Manifest) []string {
	var out []string
	for _, c := range m.Collections {
		name := c.QualifiedName()
		if !heldElsewhere(all, m.ID, name) {
			out = append(out, name)
		}
	}
	return out
}

func heldElsewhere(all []*manifest.Manifest, id, name string) bool {
	for _, o := range all {
		if o.ID != id && o.Contains(name) {
			return true
		}
	}
	return false
}
