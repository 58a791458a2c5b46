package errkind

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

type typed struct{}

func (typed) Error() string { return "typed" }
func (typed) Kind() Kind    { return Damaged }

func TestOf(t *testing.T) {
	tests := []struct {
		err  error
		want Kind
	}{
		{errors.New("x"), Failure},
		{New(Usage, "bad"), Usage},
		{fmt.Errorf("outer: %w", New(NotFound, "x")), NotFound},
		{fmt.Errorf("outer: %w", typed{}), Damaged},
		{Wrap(Conflict, typed{}), Conflict}, // the outermost kind wins
		{context.Canceled, Interrupted},
		{fmt.Errorf("read: %w", context.Canceled), Interrupted},
	}
	for _, tt := range tests {
		if got := Of(tt.err); got != tt.want {
			t.Errorf("Of(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

func TestTable(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range Kinds() {
		if k.ExitCode() == 0 || k.HTTPStatus() < 400 {
			t.Errorf("%v: exit %d, HTTP %d; want a failure code", k, k.ExitCode(), k.HTTPStatus())
		}
		if seen[k.String()] {
			t.Errorf("kind name %q used twice", k)
		}
		seen[k.String()] = true
	}
	if got := Usage.ExitCode(); got != 2 {
		t.Errorf("Usage.ExitCode() = %d, want 2", got)
	}
	if got := Kind(99).ExitCode(); got != 1 {
		t.Errorf("unknown kind exits %d, want 1", got)
	}
	if Wrap(Usage, nil) != nil {
		t.Error("Wrap(Usage, nil) != nil")
	}
}
