package progress

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestForWriter(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tests := []struct {
		name     string
		w        io.Writer
		jsonMode bool
		want     string
	}{
		{"buffer", &bytes.Buffer{}, false, "*progress.lines"},
		{"file that is no terminal", f, false, "*progress.lines"},
		{"json asked for", f, true, "*progress.jsonLines"},
	}
	for _, tt := range tests {
		p := ForWriter(tt.w, tt.jsonMode)
		if got := fmt.Sprintf("%T", p); got != tt.want {
			t.Errorf("%s: ForWriter picked %s, want %s", tt.name, got, tt.want)
		}
		p.Done()
	}
}

func TestNopAndTee(t *testing.T) {
	clock := newFakeClock()
	a, b := NewMeter(clock), NewMeter(clock)
	p := Tee(Nop, a, b)
	p.Phase("p", 10, 0)
	p.Rows(3)
	p.Bytes(7)
	p.Note("ignored")
	p.Done()
	for _, m := range []*Meter{a, b} {
		if s := m.Snapshot(); s.Rows != 3 || s.Bytes != 7 || !s.Ended {
			t.Errorf("snapshot %+v, want 3 rows, 7 bytes, ended", s)
		}
	}
}
