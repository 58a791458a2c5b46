package backup

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/milvault/milvault/repo/mem"
)

// TestReconnectCarriesOn: Milvus answers Unavailable in the middle of a
// partition (after some files are stored) and keeps answering so for a
// while, then refuses flushes for a while; a backup with Reconnect waits, then finishes the same backup in
// the same call, and holds every row, in order, as a backup without the
// outage does. Without Reconnect the same outage stops it with an
// *InterruptedError.
func TestReconnectCarriesOn(t *testing.T) {
	ctx := context.Background()
	s, p := encodeFixture(t)
	sr := newTestRepo(t, mem.New())
	straight, err := Run(ctx, Deps{Milvus: s, Repo: sr}, p)
	if err != nil {
		t.Fatal(err)
	}
	// Milvus is away for 500 ms, then answers but fails flushes with an
	// ordinary error for 500 ms more (as a restarted 2.3.5 does until its
	// data node registers).
	var down, notReady atomic.Bool
	outage := func(op string, n int) error {
		if op == "scan" && n == 11 && !down.Load() && !notReady.Load() {
			down.Store(true)
			time.AfterFunc(500*time.Millisecond, func() { notReady.Store(true); down.Store(false) })
			time.AfterFunc(time.Second, func() { notReady.Store(false) })
		}
		if down.Load() {
			return status.Error(codes.Unavailable, "injected: server went away")
		}
		if notReady.Load() && op == "flush" {
			return errors.New("injected: node not match")
		}
		return nil
	}
	s.SetHook(outage)
	if _, err := Run(ctx, Deps{Milvus: s, Repo: newTestRepo(t, mem.New())}, p); !errors.As(err, new(*InterruptedError)) {
		t.Fatalf("backup without Reconnect during the outage: %v, want an *InterruptedError", err)
	}
	for down.Load() || notReady.Load() {
		time.Sleep(50 * time.Millisecond)
	}
	s.SetHook(outage)
	r := newTestRepo(t, mem.New())
	p.Reconnect = time.Minute
	res, err := Run(ctx, Deps{Milvus: s, Repo: r}, p)
	if err != nil {
		t.Fatal(err)
	}
	if ids, _ := r.Resumable(ctx); len(ids) != 0 {
		t.Errorf("interrupted backups left after the reconnect: %v", ids)
	}
	want := backupRows(t, sr, straight.Manifest)
	if got := backupRows(t, r, res.Manifest); !slices.Equal(got, want) {
		t.Errorf("backup across the outage holds %d rows, want %d in the same order", len(got), len(want))
	}
}

// TestReconnectGivesUp: a Milvus that stays away past Reconnect leaves the
// backup interrupted, for --resume.
func TestReconnectGivesUp(t *testing.T) {
	s, p := encodeFixture(t)
	s.SetHook(func(op string, n int) error {
		if op == "scan" && n >= 11 || op == "flush" && n > 1 {
			return status.Error(codes.Unavailable, "injected: server went away")
		}
		return nil
	})
	p.Reconnect = 600 * time.Millisecond
	start := time.Now()
	_, err := Run(context.Background(), Deps{Milvus: s, Repo: newTestRepo(t, mem.New())}, p)
	if !errors.As(err, new(*InterruptedError)) {
		t.Fatalf("backup with Milvus away past Reconnect: %v, want an *InterruptedError", err)
	}
	if took := time.Since(start); took < p.Reconnect {
		t.Errorf("gave up after %v, before Reconnect (%v)", took, p.Reconnect)
	}
}
