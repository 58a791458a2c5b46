package manifest

import "testing"

func TestLookupAndContains(t *testing.T) {
	m := &Manifest{Collections: []Collection{{Database: "default", Name: "docs"}, {Database: "sales", Name: "docs"}, {Database: "sales", Name: "orders"}}}
	tests := []struct {
		ref  string
		want int
	}{{"docs", 2}, {"sales.docs", 1}, {"default.docs", 1}, {"orders", 1}, {"default.orders", 0}, {"nope", 0}, {"", 0}}
	for _, tt := range tests {
		if got := len(m.Lookup(tt.ref)); got != tt.want {
			t.Errorf("Lookup(%q) found %d, want %d", tt.ref, got, tt.want)
		}
		if got := m.Contains(tt.ref); got != (tt.want > 0) {
			t.Errorf("Contains(%q) = %v, want %v", tt.ref, got, tt.want > 0)
		}
	}
	if got := m.CollectionSet(); got != "default.docs,sales.docs,sales.orders" {
		t.Errorf("CollectionSet() = %q", got)
	}
}
