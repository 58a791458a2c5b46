package native

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// fakeManagement records the management calls of a server with (or
// without) the pause API.
type fakeManagement struct {
	mu     sync.Mutex
	calls  []string
	noAPI  bool
	failAt int // fail the n-th call with 500 (0: never)
}

func (f *fakeManagement) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, r.URL.Path+"?"+r.URL.RawQuery)
	switch {
	case f.noAPI:
		http.NotFound(w, r)
	case f.failAt == len(f.calls):
		http.Error(w, "boom", http.StatusInternalServerError)
	default:
		w.Write([]byte(`{"msg":"OK"}`))
	}
}

func (f *fakeManagement) seen() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func TestGCHoldRenewsAndResumes(t *testing.T) {
	f := &fakeManagement{}
	srv := httptest.NewServer(f)
	defer srv.Close()
	g := &GCPauser{URL: srv.URL}
	release, err := g.Hold(context.Background(), 3*time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(2500 * time.Millisecond) // renewals every second
	release()
	release() // safe twice
	calls := f.seen()
	if len(calls) < 3 || calls[0] != pausePath+"?pause_seconds=3" || calls[len(calls)-1] != resumePath+"?" {
		t.Fatalf("calls = %v, want a pause, renewals, then one resume", calls)
	}
	if calls[len(calls)-2] != pausePath+"?pause_seconds=3" {
		t.Fatalf("calls = %v, want renewals of the pause before the resume", calls)
	}
}

func TestGCPauseUnsupported(t *testing.T) {
	srv := httptest.NewServer(&fakeManagement{noAPI: true})
	defer srv.Close()
	release, err := (&GCPauser{URL: srv.URL}).Hold(context.Background(), time.Minute, nil)
	if !errors.Is(err, ErrGCPauseUnsupported) {
		t.Fatalf("Hold on a server without the API = %v, want ErrGCPauseUnsupported", err)
	}
	release() // a no-op, callable
}

func TestGCPauseRefused(t *testing.T) {
	srv := httptest.NewServer(&fakeManagement{failAt: 1})
	defer srv.Close()
	err := (&GCPauser{URL: srv.URL}).Pause(context.Background(), time.Minute)
	if err == nil || errors.Is(err, ErrGCPauseUnsupported) {
		t.Fatalf("Pause answered 500 = %v, want a plain error", err)
	}
}
