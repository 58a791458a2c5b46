package native

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

type fakeFlusher struct{ flushed []string }

func (f *fakeFlusher) ListCollections(context.Context, string) ([]string, error) {
	return []string{"a", "b"}, nil
}

func (f *fakeFlusher) Flush(_ context.Context, db, coll string) (uint64, error) {
	f.flushed = append(f.flushed, db+"."+coll)
	return uint64(len(f.flushed)) << 18, nil
}

func TestFreezeFlushesAndPausesOnce(t *testing.T) {
	m := &fakeManagement{}
	srv := httptest.NewServer(m)
	defer srv.Close()
	fl := &fakeFlusher{}
	res, err := Freeze(context.Background(), fl, &GCPauser{URL: srv.URL}, FreezeParams{For: 90 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(res.Flushed, ",") != "default.a,default.b" || res.Timestamp != 2<<18 || !res.GCPaused {
		t.Fatalf("Freeze = %+v", res)
	}
	// Not renewed: the pause expires by itself.
	time.Sleep(100 * time.Millisecond)
	if calls := m.seen(); len(calls) != 1 || calls[0] != pausePath+"?pause_seconds=90" {
		t.Fatalf("management calls = %v, want one pause of 90 s", calls)
	}
	if err := Thaw(context.Background(), &GCPauser{URL: srv.URL}); err != nil {
		t.Fatal(err)
	}
	if _, err := Freeze(context.Background(), fl, nil, FreezeParams{}); err == nil {
		t.Fatal("Freeze without a duration succeeded")
	}
}
