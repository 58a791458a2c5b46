package drill

import (
	"slices"
	"testing"

	"github.com/milvault/milvault/milvus"
)

func TestKeepTopKeepsTheBestScoresInOrder(t *testing.T) {
	var top []float64
	for i := range 25 {
		top = keepTop(top, float64((i*7)%25))
	}
	want := []float64{24, 23, 22, 21, 20, 19, 18, 17, 16, 15}
	if !slices.Equal(top, want) {
		t.Fatalf("keepTop = %v, want %v", top, want)
	}
}

func TestCompareScores(t *testing.T) {
	hits := []milvus.Hit{{Key: int64(1), Score: 3}, {Key: int64(2), Score: 2.0001}, {Key: int64(3), Score: 0}}
	if msg := compareScores(hits, []float64{3, 2.0001}); msg != "" {
		t.Fatalf("equal scores reported: %s", msg)
	}
	if msg := compareScores(hits, []float64{3, 2.1}); msg == "" {
		t.Fatal("a different score went unnoticed")
	}
	if msg := compareScores(hits, []float64{3, 2.0001, 1}); msg == "" {
		t.Fatal("a missing result went unnoticed")
	}
}

func TestParseSparseAndWire(t *testing.T) {
	v, err := parseSparse(`{"7": 0.5, "2": 1.25}`)
	if err != nil || len(v) != 2 || v[7] != 0.5 || v[2] != 1.25 {
		t.Fatalf("parseSparse = %v, %v", v, err)
	}
	w := v.wire()
	if len(w) != 16 || w[0] != 2 || w[8] != 7 {
		t.Fatalf("wire = %v; want index 2 then 7", w)
	}
	for _, bad := range []string{`[1,2]`, `{"x": 1}`, `{"-1": 1}`} {
		if _, err := parseSparse(bad); err == nil {
			t.Fatalf("parseSparse(%s) accepted", bad)
		}
	}
}
