package faulty_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/faulty"
	"github.com/milvault/milvault/repo/mem"
	"github.com/milvault/milvault/repo/storetest"
)

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) repo.Store { return faulty.Wrap(mem.New(), 1) })
}

func TestNthPutFails(t *testing.T) {
	ctx := context.Background()
	s := faulty.New(mem.New(), 1, faulty.Rule{Ops: []faulty.Op{faulty.Put}, Nth: 2, Kind: faulty.Permanent})
	for i, want := range []bool{true, false, true} {
		err := s.Put(ctx, "f", strings.NewReader("x"))
		if (err == nil) != want {
			t.Fatalf("put %d: error %v, want success %v", i+1, err, want)
		}
		if err != nil && faulty.IsTransient(err) {
			t.Errorf("permanent fault reported as transient: %v", err)
		}
	}
	if got := s.Injected()[faulty.Put]; got != 1 {
		t.Errorf("Injected()[put] = %d, want 1", got)
	}
}

func TestProbabilityIsSeeded(t *testing.T) {
	run := func() []bool {
		s := faulty.New(mem.New(), 42, faulty.Rule{Probability: 0.3, Kind: faulty.Transient})
		var out []bool
		for range 200 {
			_, err := s.Stat(context.Background(), "x")
			out = append(out, faulty.IsTransient(err))
		}
		return out
	}
	a, b := run(), run()
	hits := 0
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("call %d differs between runs with the same seed", i)
		}
		if a[i] {
			hits++
		}
	}
	if hits < 30 || hits > 90 {
		t.Errorf("%d of 200 calls hit at p=0.3", hits)
	}
}

func TestReadFaults(t *testing.T) {
	const content = "0123456789abcdefghij"
	tests := []struct {
		kind    faulty.Kind
		want    string
		wantErr bool
	}{
		{faulty.Short, content[:10], false},
		{faulty.Corrupt, "", false}, // checked byte by byte below
		{faulty.Interrupt, content[:10], true},
	}
	for _, tt := range tests {
		inner := mem.New()
		inner.Put(context.Background(), "f", strings.NewReader(content))
		s := faulty.New(inner, 1, faulty.Rule{Ops: []faulty.Op{faulty.Open}, Nth: 1, Kind: tt.kind})
		rc, err := s.Open(context.Background(), "f")
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if (err != nil) != tt.wantErr || (err != nil && !faulty.IsTransient(err)) {
			t.Errorf("kind %d: read error %v, want error %v (transient)", tt.kind, err, tt.wantErr)
		}
		if tt.kind == faulty.Corrupt {
			if len(got) != len(content) || string(got) == content || got[10] != content[10]^0xff {
				t.Errorf("corrupt read = %q, want byte 10 flipped", got)
			}
			continue
		}
		if string(got) != tt.want {
			t.Errorf("kind %d: read %q, want %q", tt.kind, got, tt.want)
		}
	}
}

func TestDelayAndPrefix(t *testing.T) {
	s := faulty.New(mem.New(), 1,
		faulty.Rule{Prefix: "slow/", Kind: faulty.Delay, Delay: 30 * time.Millisecond, Probability: 1})
	start := time.Now()
	s.Stat(context.Background(), "fast/x")
	if d := time.Since(start); d > 20*time.Millisecond {
		t.Errorf("call outside the prefix took %s", d)
	}
	start = time.Now()
	_, err := s.Stat(context.Background(), "slow/x")
	if d := time.Since(start); d < 30*time.Millisecond || !errors.Is(err, repo.ErrNotFound) {
		t.Errorf("delayed call took %s with %v; want >= 30ms and not found", d, err)
	}
}
