package native

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// ErrGCPauseUnsupported is wrapped by GCPauser errors when the server has
// no garbage-collection pause API. Milvus 2.3.5 has none: its metrics port
// answers 404 to /management/datacoord/garbage_collection/pause (the API
// came with later releases). Without it, files a backup copies are safe
// from GC only for dataCoord.gc.dropTolerance after compaction drops their
// segment (3 hours by default); a file that disappears mid-copy fails the
// backup, it is never silently left out.
var ErrGCPauseUnsupported = errors.New("the server has no garbage-collection pause API")

// GCPauser pauses and resumes Milvus's garbage collection through the
// management API on the metrics port (9091 by default).
type GCPauser struct {
	// URL is the metrics/management base URL, e.g. http://milvus:9091.
	URL    string
	Client *http.Client // nil means a client with a 10 s timeout
}

const (
	pausePath  = "/management/datacoord/garbage_collection/pause"
	resumePath = "/management/datacoord/garbage_collection/resume"
)

// Pause pauses garbage collection for d (the server resumes it by itself
// afterwards). An error wraps ErrGCPauseUnsupported when the server lacks
// the API.
func (g *GCPauser) Pause(ctx context.Context, d time.Duration) error {
	q := url.Values{"pause_seconds": {strconv.Itoa(int(d.Round(time.Second) / time.Second))}}
	return g.call(ctx, pausePath+"?"+q.Encode())
}

// Resume resumes garbage collection at once.
func (g *GCPauser) Resume(ctx context.Context) error { return g.call(ctx, resumePath) }

func (g *GCPauser) call(ctx context.Context, path string) error {
	c := g.Client
	if c == nil {
		c = &http.Client{Timeout: 10 * time.Second}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(g.URL, "/")+path, nil)
	if err != nil {
		return fmt.Errorf("garbage-collection API at %s: %w", g.URL, err)
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("garbage-collection API at %s: %w", g.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return fmt.Errorf("%w (%s answers 404 to %s)", ErrGCPauseUnsupported, g.URL, strings.SplitN(path, "?", 2)[0])
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("garbage-collection API at %s: %s: %s", g.URL, resp.Status, strings.TrimSpace(string(body)))
	}
	return nil
}

// Hold pauses garbage collection for ttl and renews the pause every ttl/3
// until the returned release is called, which resumes it (release is safe
// to call more than once). When the first pause fails, Hold returns the
// error and a no-op release; a later renewal failing is reported through
// note (the pause then lapses on its own after ttl).
func (g *GCPauser) Hold(ctx context.Context, ttl time.Duration, note func(string)) (release func(), err error) {
	if err := g.Pause(ctx, ttl); err != nil {
		return func() {}, err
	}
	quit, done := make(chan struct{}), make(chan struct{})
	go g.renew(ctx, ttl, note, quit, done)
	released := false
	return func() {
		if released {
			return
		}
		released = true
		close(quit)
		<-done
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := g.Resume(rctx); err != nil && note != nil {
			note(fmt.Sprintf("resuming Milvus garbage collection failed (it resumes by itself within %s): %v", ttl, err))
		}
	}, nil
}

func (g *GCPauser) renew(ctx context.Context, ttl time.Duration, note func(string), quit <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(max(ttl/3, time.Second))
	defer t.Stop()
	for {
		select {
		case <-quit:
			return
		case <-ctx.Done():
			return
		case <-t.C:
			if err := g.Pause(ctx, ttl); err != nil && note != nil {
				note(fmt.Sprintf("renewing the Milvus garbage-collection pause failed: %v", err))
			}
		}
	}
}
