// Package faulty is a store wrapper that injects faults, for tests: it fails
// the Nth call of an operation or each call with a probability (seeded, so a
// run repeats), returns transient or permanent errors, short or corrupted
// reads, and delays. Tests use it to prove that nothing half-written is ever
// reported as complete and that retries recover from transient faults.
package faulty

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/milvault/milvault/internal/clock"
	"github.com/milvault/milvault/repo"
)

var _ repo.Store = (*Store)(nil)

// Op names a store operation.
type Op string

// The operations faults can target.
const (
	Put    Op = "put"
	Open   Op = "open"
	Stat   Op = "stat"
	List   Op = "list"
	Delete Op = "delete"
)

// Kind is what an injected fault does.
type Kind int

// Fault kinds. Short, Corrupt and Interrupt apply to Open and OpenRange (a
// ranged read counts as an Open): the call succeeds and the
// returned reader misbehaves.
const (
	Transient Kind = iota // the call fails with an error that IsTransient reports
	Permanent             // the call fails with an error that is not transient
	Short                 // the reader ends early without an error (a truncated file)
	Corrupt               // the reader returns the content with one byte flipped
	Interrupt             // the reader fails with a transient error half-way
	Delay                 // the call waits Rule.Delay, then proceeds
)

// Rule says which calls fail and how. A call matches when its operation is
// in Ops (all operations when empty) and its name starts with Prefix. A
// matching call is hit when it is the Nth matching call (counted from 1 per
// rule) or, when Nth is 0, with Probability.
type Rule struct {
	Ops         []Op
	Prefix      string
	Nth         int
	Probability float64
	Kind        Kind
	Delay       time.Duration
}

// Error is an injected failure.
type Error struct {
	Op        Op
	Name      string
	transient bool
}

func (e *Error) Error() string {
	kind := "permanent"
	if e.transient {
		kind = "transient"
	}
	return fmt.Sprintf("injected %s fault: %s %s", kind, e.Op, e.Name)
}

// Transient reports whether retrying may succeed.
func (e *Error) Transient() bool { return e.transient }

// IsTransient reports whether err is (or wraps) an injected transient
// fault. It is the classifier to give the retry wrapper in tests.
func IsTransient(err error) bool {
	var fe *Error
	return errors.As(err, &fe) && fe.transient
}

// Store injects faults into the calls it passes to the wrapped store.
type Store struct {
	repo.Store
	rules []Rule

	mu       sync.Mutex
	rng      *rand.Rand
	matched  []int // per rule
	injected map[Op]int
}

// New wraps inner. seed makes probabilistic faults repeatable.
func New(inner repo.Store, seed uint64, rules ...Rule) *Store {
	return &Store{
		Store: inner, rules: rules,
		rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), matched: make([]int, len(rules)),
		injected: map[Op]int{},
	}
}

// Wrap is New returning the repo.Store interface.
func Wrap(inner repo.Store, seed uint64, rules ...Rule) repo.Store {
	return New(inner, seed, rules...)
}

// Injected returns how many faults were injected per operation (delays
// included).
func (s *Store) Injected() map[Op]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[Op]int, len(s.injected))
	for k, v := range s.injected {
		out[k] = v
	}
	return out
}

// pick returns the fault kinds hit by this call, in rule order.
func (s *Store) pick(op Op, name string) []Rule {
	s.mu.Lock()
	defer s.mu.Unlock()
	var hit []Rule
	for i, r := range s.rules {
		if !r.matches(op, name) {
			continue
		}
		s.matched[i]++
		if (r.Nth > 0 && s.matched[i] == r.Nth) || (r.Nth == 0 && s.rng.Float64() < r.Probability) {
			hit = append(hit, r)
			s.injected[op]++
		}
	}
	return hit
}

func (r Rule) matches(op Op, name string) bool {
	if !strings.HasPrefix(name, r.Prefix) {
		return false
	}
	if len(r.Ops) == 0 {
		return true
	}
	for _, o := range r.Ops {
		if o == op {
			return true
		}
	}
	return false
}

// before applies delays and returns the injected error, if any, and the
// reader faults left for Open.
func (s *Store) before(ctx context.Context, op Op, name string) ([]Kind, error) {
	var readFaults []Kind
	for _, r := range s.pick(op, name) {
		switch r.Kind {
		case Delay:
			if err := clock.Sleep(ctx, r.Delay); err != nil {
				return nil, err
			}
		case Transient, Permanent:
			return nil, &Error{Op: op, Name: name, transient: r.Kind == Transient}
		default:
			readFaults = append(readFaults, r.Kind)
		}
	}
	return readFaults, nil
}

// Put fails after reading part of r when a fault hits, so that callers that
// retry must replay the reader from its start.
func (s *Store) Put(ctx context.Context, name string, r io.Reader) error {
	if _, err := s.before(ctx, Put, name); err != nil {
		_, _ = io.CopyN(io.Discard, r, 4096)
		return err
	}
	return s.Store.Put(ctx, name, r)
}

// Open may fail, or return a reader that is short, corrupted or interrupted.
func (s *Store) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	kinds, err := s.before(ctx, Open, name)
	if err != nil {
		return nil, err
	}
	rc, err := s.Store.Open(ctx, name)
	if err != nil || len(kinds) == 0 {
		return rc, err
	}
	size := int64(-1)
	if fi, serr := s.Store.Stat(ctx, name); serr == nil {
		size = fi.Size
	}
	return &badReader{rc: rc, kind: kinds[0], at: max(size/2, 0), name: name}, nil
}

// OpenRange counts as an Open: it may fail, or return a reader that is
// short, corrupted or interrupted half-way through the range.
func (s *Store) OpenRange(ctx context.Context, name string, offset, length int64) (io.ReadCloser, error) {
	kinds, err := s.before(ctx, Open, name)
	if err != nil {
		return nil, err
	}
	rc, err := s.Store.OpenRange(ctx, name, offset, length)
	if err != nil || len(kinds) == 0 {
		return rc, err
	}
	if length < 0 {
		length = -1
		if fi, serr := s.Store.Stat(ctx, name); serr == nil {
			length = fi.Size - offset
		}
	}
	return &badReader{rc: rc, kind: kinds[0], at: max(length/2, 0), name: name}, nil
}

// Stat may fail.
func (s *Store) Stat(ctx context.Context, name string) (repo.FileInfo, error) {
	if _, err := s.before(ctx, Stat, name); err != nil {
		return repo.FileInfo{}, err
	}
	return s.Store.Stat(ctx, name)
}

// List may fail.
func (s *Store) List(ctx context.Context, prefix string) ([]repo.FileInfo, error) {
	if _, err := s.before(ctx, List, prefix); err != nil {
		return nil, err
	}
	return s.Store.List(ctx, prefix)
}

// Delete may fail (before deleting anything).
func (s *Store) Delete(ctx context.Context, name string) error {
	if _, err := s.before(ctx, Delete, name); err != nil {
		return err
	}
	return s.Store.Delete(ctx, name)
}

// DeleteAll counts as a Delete of prefix.
func (s *Store) DeleteAll(ctx context.Context, prefix string) error {
	if _, err := s.before(ctx, Delete, prefix); err != nil {
		return err
	}
	return s.Store.DeleteAll(ctx, prefix)
}

// badReader misbehaves once it has passed offset at.
type badReader struct {
	rc   io.ReadCloser
	kind Kind
	at   int64
	pos  int64
	name string
	done bool
}

func (b *badReader) Read(p []byte) (int, error) {
	if b.kind != Corrupt && b.pos >= b.at {
		if b.kind == Short {
			return 0, io.EOF
		}
		return 0, &Error{Op: Open, Name: b.name, transient: true}
	}
	if b.kind != Corrupt && int64(len(p)) > b.at-b.pos {
		p = p[:b.at-b.pos]
	}
	n, err := b.rc.Read(p)
	if b.kind == Corrupt && !b.done && b.pos+int64(n) > b.at {
		p[b.at-b.pos] ^= 0xff
		b.done = true
	}
	b.pos += int64(n)
	return n, err
}

func (b *badReader) Close() error { return b.rc.Close() }
