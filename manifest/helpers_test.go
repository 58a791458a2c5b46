package manifest

import (
	"encoding/json"
	"testing"
)

// mustMarshal encodes without validation, to build invalid documents.
func mustMarshal(t *testing.T, m *Manifest) []byte {
	t.Helper()
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
