package verify

import (
	"fmt"
	"testing"
)

func rows(pairs ...any) <-chan keyedRow {
	ch := make(chan keyedRow, len(pairs))
	for i := 0; i < len(pairs); i += 2 {
		ch <- keyedRow{key: pairs[i], text: pairs[i+1].(string)}
	}
	close(ch)
	return ch
}

func TestMergeDiff(t *testing.T) {
	got := mergeDiff(
		rows(int64(1), "a", int64(2), "b", int64(4), "d", int64(5), "e"),
		rows(int64(1), "a", int64(3), "c", int64(4), "D", int64(6), "f"))
	want := "[{2 missing} {3 extra} {4 different} {5 missing} {6 extra}]"
	if fmt.Sprint(got) != want {
		t.Fatalf("mergeDiff = %v, want %s", got, want)
	}
	if got := mergeDiff(rows("a", "x"), rows("a", "x")); len(got) != 0 {
		t.Fatalf("equal streams gave diffs %v", got)
	}
}

func TestSetHashOrderIndependent(t *testing.T) {
	var a, b, c setHash
	for _, r := range []string{"r1", "r2", "r3"} {
		a.add(r)
	}
	for _, r := range []string{"r3", "r1", "r2"} {
		b.add(r)
	}
	for _, r := range []string{"r1", "r2", "r4"} {
		c.add(r)
	}
	if a.hex() != b.hex() || a.rows != 3 {
		t.Fatalf("order changed the hash: %s vs %s", a.hex(), b.hex())
	}
	if a.hex() == c.hex() {
		t.Fatal("different rows, same hash")
	}
}
