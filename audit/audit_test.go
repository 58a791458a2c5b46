package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/mem"
)

// trail returns a repository in a memory store holding n entries, one
// second apart, and the store.
func trail(t *testing.T, n int) (*repo.Repository, *mem.Store, []Entry) {
	t.Helper()
	ctx := context.Background()
	s := mem.New()
	r, err := repo.Init(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	var out []Entry
	for i := range n {
		e, err := Record(ctx, r, Entry{Time: start.Add(time.Duration(i) * time.Second), Operation: OpDelete, Result: ResultOK,
			BackupIDs: []string{"b" + string(rune('0'+i))}, Params: map[string]any{"token": "root:Milvus", "n": i}})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return r, s, out
}

func read(t *testing.T, s *mem.Store, name string) []byte {
	t.Helper()
	rc, err := s.Open(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var buf strings.Builder
	if _, err := io.Copy(&buf, rc); err != nil {
		t.Fatal(err)
	}
	return []byte(buf.String())
}

func put(t *testing.T, s *mem.Store, name string, data []byte) {
	t.Helper()
	if err := s.Put(context.Background(), name, strings.NewReader(string(data))); err != nil {
		t.Fatal(err)
	}
}

func TestRecordChainsAndRedacts(t *testing.T) {
	r, _, es := trail(t, 3)
	if len(es[0].Prev) != 0 || len(es[1].Prev) != 1 || es[1].Prev[0] != (Link{es[0].Name, es[0].Hash}) || es[2].Prev[0].Name != es[1].Name {
		t.Fatalf("links: %+v / %+v / %+v", es[0].Prev, es[1].Prev, es[2].Prev)
	}
	if es[0].Params["token"] != Redacted || es[0].Params["n"] != 0 {
		t.Fatalf("params %v: want token redacted and n kept", es[0].Params)
	}
	if es[0].User == "" || es[0].Host == "" {
		t.Fatalf("identity not filled: %+v", es[0])
	}
	rep, err := Verify(context.Background(), r)
	if err != nil || rep.Entries != 3 || len(rep.Heads) != 1 || rep.Heads[0].Name != es[2].Name {
		t.Fatalf("Verify = %+v, %v; want 3 entries, head %s, no error", rep, err, es[2].Name)
	}
}

func TestVerifyNamesTheBrokenEntry(t *testing.T) {
	cases := []struct {
		name   string
		damage func(t *testing.T, s *mem.Store, es []Entry)
		want   func(es []Entry) string
	}{
		{"removed", func(t *testing.T, s *mem.Store, es []Entry) {
			if err := s.Delete(context.Background(), es[2].Name); err != nil {
				t.Fatal(err)
			}
		}, func(es []Entry) string { return "predecessor " + es[2].Name + " is missing" }},
		{"edited", func(t *testing.T, s *mem.Store, es []Entry) {
			data := strings.Replace(string(read(t, s, es[1].Name)), `"result": "ok"`, `"result": "failed"`, 1)
			put(t, s, es[1].Name, []byte(data))
		}, func(es []Entry) string {
			return "audit entry " + es[1].Name + ": its content does not match its hash: it was edited"
		}},
		{"edited with a new hash", func(t *testing.T, s *mem.Store, es []Entry) {
			e := es[1]
			e.BackupIDs = []string{"other"}
			e.Hash = digest(e)
			data, _ := json.Marshal(e)
			put(t, s, es[1].Name, data)
		}, func(es []Entry) string { return es[1].Name + " was edited or replaced" }},
		{"swapped", func(t *testing.T, s *mem.Store, es []Entry) {
			a, b := read(t, s, es[1].Name), read(t, s, es[3].Name)
			put(t, s, es[1].Name, b)
			put(t, s, es[3].Name, a)
		}, func(es []Entry) string { return "audit entry " + es[1].Name + ": it holds entry " + es[3].Name }},
		{"first removed", func(t *testing.T, s *mem.Store, es []Entry) {
			if err := s.Delete(context.Background(), es[0].Name); err != nil {
				t.Fatal(err)
			}
		}, func(es []Entry) string { return "predecessor " + es[0].Name + " is missing" }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, s, es := trail(t, 5)
			c.damage(t, s, es)
			rep, err := Verify(context.Background(), r)
			want := c.want(es)
			if err == nil || rep.OK() || !strings.Contains(err.Error(), want) {
				t.Fatalf("Verify error = %v\nwant it to contain %q", err, want)
			}
		})
	}
}

func TestRacingWritersForkAndJoin(t *testing.T) {
	ctx := context.Background()
	r, s, es := trail(t, 2)
	// Two writers that both saw es[1] as the head.
	for i, suffix := range []string{"eeeeeeee", "ffffffff"} {
		fork := Entry{Name: Prefix + "20261130T120001.50000000" + string(rune('0'+i)) + "Z-" + suffix + ".json", Time: es[1].Time.Add(500 * time.Millisecond),
			Operation: OpBackup, Result: ResultOK, Prev: []Link{{es[1].Name, es[1].Hash}}}
		fork.Hash = digest(fork)
		data, _ := json.Marshal(fork)
		put(t, s, fork.Name, data)
	}
	if _, err := Record(ctx, r, Entry{Time: es[1].Time.Add(time.Second), Operation: OpPrune, Result: ResultOK}); err != nil {
		t.Fatal(err)
	}
	rep, err := Verify(ctx, r)
	if err != nil || rep.Forks != 1 || len(rep.Heads) != 1 || rep.Entries != 5 {
		t.Fatalf("Verify = %+v, %v; want one fork joined again into one head", rep, err)
	}
}

func TestListSince(t *testing.T) {
	r, _, es := trail(t, 4)
	got, err := List(context.Background(), r, es[2].Time)
	if err != nil || len(got) != 2 || got[0].Name != es[2].Name {
		t.Fatalf("List since %s = %d entries, %v; want the last 2", es[2].Time, len(got), err)
	}
}

func TestRedact(t *testing.T) {
	got := Redact(map[string]any{"password": "x", "api_key": "k", "repo": "s3://u:p@bucket/x?secret=1", "nested": map[string]any{"Token": "t"}, "empty_token": ""})
	if got["password"] != Redacted || got["api_key"] != Redacted || got["nested"].(map[string]any)["Token"] != Redacted || got["empty_token"] != "" {
		t.Fatalf("Redact = %v", got)
	}
	if got["repo"] != "s3://[redacted]@bucket/x?[redacted]" {
		t.Fatalf("repo = %v", got["repo"])
	}
}

// TestConcurrentWriters records from several goroutines at once, as
// separate processes would (nothing in the package serializes them): the
// trail must hold every entry and verify.
func TestConcurrentWriters(t *testing.T) {
	ctx := context.Background()
	r, err := repo.Init(ctx, mem.New())
	if err != nil {
		t.Fatal(err)
	}
	const writers, each = 3, 10
	errs := make(chan error, writers*each)
	for w := range writers {
		go func() {
			for i := range each {
				_, err := Record(ctx, r, Entry{Operation: OpBackup, Result: ResultOK, BackupIDs: []string{fmt.Sprint(w, "-", i)}})
				errs <- err
			}
		}()
	}
	for range writers * each {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	rep, err := Verify(ctx, r)
	if err != nil || rep.Entries != writers*each {
		t.Fatalf("Verify = %+v, %v; want %d intact entries", rep, err, writers*each)
	}
	t.Logf("%d entries, %d forks, %d heads", rep.Entries, rep.Forks, len(rep.Heads))
}
