package retry_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/faulty"
	"github.com/milvault/milvault/repo/local"
	"github.com/milvault/milvault/repo/mem"
	"github.com/milvault/milvault/repo/retry"
	"github.com/milvault/milvault/repo/storetest"
)

// options retries injected transient faults without sleeping and records
// the pauses it would have taken.
func options(pauses *[]time.Duration) retry.Options {
	return retry.Options{
		IsTransient: faulty.IsTransient, MaxAttempts: 4, Base: 100 * time.Millisecond, Max: 250 * time.Millisecond,
		Jitter: func() float64 { return 1 },
		Sleep: func(ctx context.Context, d time.Duration) error {
			if pauses != nil {
				*pauses = append(*pauses, d)
			}
			return ctx.Err()
		},
	}
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) repo.Store { return retry.Wrap(mem.New(), options(nil)) })
}

func TestContractUnderFaults(t *testing.T) {
	storetest.Run(t, func(t *testing.T) repo.Store {
		inner := faulty.Wrap(mem.New(), 7, faulty.Rule{Probability: 0.3, Kind: faulty.Transient})
		o := options(nil)
		o.MaxAttempts = 30
		return retry.Wrap(inner, o)
	})
}

func TestRetries(t *testing.T) {
	transient := func(nth int) faulty.Rule {
		return faulty.Rule{Ops: []faulty.Op{faulty.Stat}, Nth: nth, Kind: faulty.Transient}
	}
	tests := []struct {
		name       string
		rules      []faulty.Rule
		wantErr    bool
		wantPauses []time.Duration
	}{
		{"no fault", nil, false, nil},
		{"two transient faults", []faulty.Rule{transient(1), transient(2)}, false, []time.Duration{100 * time.Millisecond, 200 * time.Millisecond}},
		{"backoff is capped, attempts are bounded", []faulty.Rule{transient(1), transient(2), transient(3), transient(4)}, true,
			[]time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 250 * time.Millisecond}},
		{"permanent fault is not retried", []faulty.Rule{{Ops: []faulty.Op{faulty.Stat}, Nth: 1, Kind: faulty.Permanent}}, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inner := mem.New()
			inner.Put(context.Background(), "f", strings.NewReader("x"))
			var pauses []time.Duration
			s := retry.New(faulty.New(inner, 1, tt.rules...), options(&pauses))
			_, err := s.Stat(context.Background(), "f")
			if (err != nil) != tt.wantErr {
				t.Fatalf("Stat error = %v, want error %v", err, tt.wantErr)
			}
			if !equal(pauses, tt.wantPauses) {
				t.Errorf("pauses = %v, want %v", pauses, tt.wantPauses)
			}
		})
	}
}

func equal(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestNotFoundIsNotRetried(t *testing.T) {
	var pauses []time.Duration
	o := options(&pauses)
	o.IsTransient = func(error) bool { return true }
	s := retry.New(mem.New(), o)
	if _, err := s.Open(context.Background(), "missing"); !errors.Is(err, repo.ErrNotFound) || len(pauses) != 0 {
		t.Errorf("Open(missing) = %v after %d pauses, want ErrNotFound at once", err, len(pauses))
	}
}

func TestPutReplaysReader(t *testing.T) {
	content := strings.Repeat("0123456789", 2000) // longer than what a failed put consumes
	failTwice := []faulty.Rule{{Ops: []faulty.Op{faulty.Put}, Nth: 1, Kind: faulty.Transient}, {Ops: []faulty.Op{faulty.Put}, Nth: 2, Kind: faulty.Transient}}
	tests := []struct {
		name    string
		reader  func() io.Reader
		spool   int64
		wantErr bool
	}{
		{"seeker is rewound", func() io.Reader { return strings.NewReader(content) }, 0, false},
		{"seeker mid-way is rewound to where it stood", func() io.Reader {
			r := strings.NewReader("skip" + content)
			r.Seek(4, io.SeekStart)
			return r
		}, 0, false},
		{"stream is spooled", func() io.Reader { return iotest.HalfReader(strings.NewReader(content)) }, 1 << 20, false},
		{"stream without spool is tried once", func() io.Reader { return iotest.HalfReader(strings.NewReader(content)) }, 0, true},
		{"stream over the spool limit is tried once", func() io.Reader { return iotest.HalfReader(strings.NewReader(content)) }, 100, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inner := mem.New()
			o := options(nil)
			o.SpoolBytes, o.SpoolDir = tt.spool, t.TempDir()
			s := retry.New(faulty.New(inner, 1, failTwice...), o)
			err := s.Put(context.Background(), "f", tt.reader())
			if (err != nil) != tt.wantErr {
				t.Fatalf("Put error = %v, want error %v", err, tt.wantErr)
			}
			if err == nil {
				if got := read(t, inner, "f"); got != content {
					t.Errorf("stored %d bytes, want the %d bytes given", len(got), len(content))
				}
			}
		})
	}
}

func TestSpoolOverLimitStillWritesEverything(t *testing.T) {
	inner := mem.New()
	o := options(nil)
	o.SpoolBytes, o.SpoolDir = 10, t.TempDir()
	content := strings.Repeat("x", 1000)
	if err := retry.New(inner, o).Put(context.Background(), "f", iotest.OneByteReader(strings.NewReader(content))); err != nil {
		t.Fatal(err)
	}
	if got := read(t, inner, "f"); got != content {
		t.Errorf("stored %d bytes, want %d", len(got), len(content))
	}
}

func TestOpenResumesInterruptedRead(t *testing.T) {
	inner := mem.New()
	content := bytes.Repeat([]byte("abcdefgh"), 4096)
	inner.Put(context.Background(), "f", bytes.NewReader(content))
	s := retry.New(faulty.New(inner, 1,
		faulty.Rule{Ops: []faulty.Op{faulty.Open}, Nth: 1, Kind: faulty.Interrupt},
		faulty.Rule{Ops: []faulty.Op{faulty.Open}, Nth: 2, Kind: faulty.Transient}), options(nil))
	if got := read(t, s, "f"); got != string(content) {
		t.Errorf("read %d bytes, want %d identical", len(got), len(content))
	}
}

// TestPassesCapabilitiesThrough checks that a wrapper gives the wrapped
// store's answers to the methods it does not act on.
func TestPassesCapabilitiesThrough(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	l, err := local.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	w := retry.Wrap(l, options(nil))
	if got, err := w.SpoolDir(ctx); err != nil || got != dir {
		t.Errorf("wrapped local store: SpoolDir = %q, %v; want %q", got, err, dir)
	}
	if n, err := w.FreeSpace(ctx); err != nil || n <= 0 {
		t.Errorf("wrapped local store: FreeSpace = %d, %v; want > 0", n, err)
	}
	m := retry.Wrap(mem.New(), options(nil))
	if _, err := m.SpoolDir(ctx); !errors.Is(err, repo.ErrUnsupported) {
		t.Errorf("wrapped mem store: SpoolDir error = %v, want ErrUnsupported", err)
	}
	if _, err := m.FreeSpace(ctx); !errors.Is(err, repo.ErrUnsupported) {
		t.Errorf("wrapped mem store: FreeSpace error = %v, want ErrUnsupported", err)
	}
}

// TestResumesRange checks that a ranged read interrupted half-way resumes
// with the rest of the range only.
func TestResumesRange(t *testing.T) {
	content := bytes.Repeat([]byte("0123456789"), 10000)
	inner := mem.New()
	if err := inner.Put(context.Background(), "f", bytes.NewReader(content)); err != nil {
		t.Fatal(err)
	}
	s := retry.Wrap(faulty.Wrap(inner, 1,
		faulty.Rule{Ops: []faulty.Op{faulty.Open}, Nth: 1, Kind: faulty.Interrupt}), options(nil))
	rc, err := s.OpenRange(context.Background(), "f", 1234, 50000)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	got, err := io.ReadAll(rc)
	if err != nil || !bytes.Equal(got, content[1234:1234+50000]) {
		t.Errorf("read %d bytes (%v), want the 50000 bytes of the range", len(got), err)
	}
}

func read(t *testing.T, s repo.Store, name string) string {
	t.Helper()
	rc, err := s.Open(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
