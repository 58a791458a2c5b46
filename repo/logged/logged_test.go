package logged_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/faulty"
	"github.com/milvault/milvault/repo/logged"
	"github.com/milvault/milvault/repo/mem"
	"github.com/milvault/milvault/repo/storetest"
)

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) repo.Store {
		return logged.Wrap(mem.New(), slog.New(slog.DiscardHandler), logged.Options{})
	})
}

func TestOneLinePerOperation(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	inner := faulty.New(mem.New(), 1, faulty.Rule{Ops: []faulty.Op{faulty.Delete}, Nth: 1, Kind: faulty.Permanent})
	s := logged.New(inner, log, logged.Options{Level: slog.LevelDebug})
	ctx := context.Background()
	const secret = "s3cr3t-payload"
	s.Put(ctx, "a/f", strings.NewReader(secret))
	rc, _ := s.Open(ctx, "a/f")
	io.Copy(io.Discard, rc)
	rc.Close()
	s.Stat(ctx, "a/missing")
	s.List(ctx, "a/")
	s.Delete(ctx, "a/f")

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	want := []string{
		"level=DEBUG msg=store op=put name=a/f duration=",
		"level=DEBUG msg=store op=read name=a/f duration=",
		"level=WARN msg=store op=stat name=a/missing duration=",
		"level=DEBUG msg=store op=list name=a/ duration=",
		"level=WARN msg=store op=delete name=a/f duration=",
	}
	if len(lines) != len(want) {
		t.Fatalf("got %d lines, want %d:\n%s", len(lines), len(want), buf.String())
	}
	for i, w := range want {
		if !strings.Contains(lines[i], w) {
			t.Errorf("line %d = %q, want it to contain %q", i, lines[i], w)
		}
	}
	if !strings.Contains(lines[0], "bytes=14") || !strings.Contains(lines[4], "injected permanent fault") {
		t.Errorf("put line %q should count bytes, delete line %q should carry the error", lines[0], lines[4])
	}
	if strings.Contains(buf.String(), secret) {
		t.Error("log contains file content")
	}
}

func TestErrorsPassThrough(t *testing.T) {
	s := logged.New(mem.New(), slog.New(slog.DiscardHandler), logged.Options{})
	if _, err := s.Stat(context.Background(), "x"); !errors.Is(err, repo.ErrNotFound) {
		t.Errorf("Stat(missing) = %v, want ErrNotFound", err)
	}
}
