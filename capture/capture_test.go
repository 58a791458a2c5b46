package capture_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/milvault/milvault/capture"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/faulty"
	"github.com/milvault/milvault/repo/local"
	"github.com/milvault/milvault/repo/mem"
)

// t0 is when writers open; base is the hybrid timestamp of the tests'
// writes (base+i, within the same millisecond), and a writer's clock reads
// an hour later once open, so that Close follows every write.
var (
	t0   = time.Now().Truncate(time.Millisecond)
	base = capture.HybridTS(t0)
)

func clock() func() time.Time {
	var mu sync.Mutex
	calls := 0
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls == 1 {
			return t0
		}
		return t0.Add(time.Hour)
	}
}

func write(kind capture.Kind, ts uint64, coll string, body string) capture.Record {
	return capture.Record{Kind: kind, TS: ts, Database: "default", Collection: coll, Request: []byte(body)}
}

func newRepo(t *testing.T, kind string) (*repo.Repository, string) {
	t.Helper()
	ctx := context.Background()
	switch kind {
	case "local":
		dir := t.TempDir()
		st, err := local.New(dir)
		if err != nil {
			t.Fatal(err)
		}
		r, err := repo.Init(ctx, st)
		if err != nil {
			t.Fatal(err)
		}
		return r, dir
	case "encrypted":
		r, err := repo.InitEncrypted(ctx, mem.New(), repo.KeySpec{Passphrase: "test", ScryptWorkFactor: 10})
		if err != nil {
			t.Fatal(err)
		}
		return r, ""
	}
	r, err := repo.Init(ctx, mem.New())
	if err != nil {
		t.Fatal(err)
	}
	return r, ""
}

func open(t *testing.T, st capture.Store, opt capture.Options) *capture.Writer {
	t.Helper()
	if opt.GuardID == "" {
		opt.GuardID = "g1"
	}
	if opt.Now == nil {
		opt.Now = clock()
	}
	if opt.CommitInterval == 0 {
		opt.CommitInterval = time.Hour // tests commit by rolls and Close
	}
	w, err := capture.Open(context.Background(), st, opt)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestOrderAndRange(t *testing.T) {
	for _, kind := range []string{"mem", "local", "encrypted"} {
		t.Run(kind, func(t *testing.T) {
			ctx := context.Background()
			r, _ := newRepo(t, kind)
			w := open(t, r, capture.Options{SegmentBytes: 1})
			// Acknowledged out of order, across several rolled segments.
			for _, rec := range []capture.Record{
				write(capture.KindInsert, base+30, "docs", "i30"),
				write(capture.KindInsert, base+10, "docs", "i10"),
				write(capture.KindUpsert, base+20, "other", "u20"),
				write(capture.KindDelete, base+50, "docs", "d50"),
				write(capture.KindUpsert, base+40, "docs", "u40"),
			} {
				if err := w.Append(rec).Wait(ctx); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(ctx); err != nil {
				t.Fatal(err)
			}
			res, err := capture.Read(ctx, r, capture.Query{Database: "default", Collection: "docs", From: base + 10, To: base + 50})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, rec := range res.Records {
				got = append(got, string(rec.Request))
			}
			if want := "i30 u40 d50"; strings.Join(got, " ") != want {
				t.Errorf("records = %v, want %s", got, want)
			}
			if len(res.Gaps) != 0 {
				t.Errorf("gaps = %+v, want none", res.Gaps)
			}
			if res.Segments < 7 {
				t.Errorf("segments = %d, want at least 7 (one per write: SegmentBytes 1)", res.Segments)
			}
			checkNames(t, r, "docs")
		})
	}
}

// checkNames checks that segment names and, in an encrypted repository,
// stored bytes do not name the collection.
func checkNames(t *testing.T, r *repo.Repository, coll string) {
	t.Helper()
	ctx := context.Background()
	segs, err := capture.ListSegments(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range segs {
		if strings.Contains(s.Name, coll) {
			t.Errorf("segment name %s reveals the collection", s.Name)
		}
	}
}

func TestBeforeCaptureIsAGap(t *testing.T) {
	ctx := context.Background()
	r, _ := newRepo(t, "mem")
	w := open(t, r, capture.Options{})
	w.Close(ctx)
	res, err := capture.Read(ctx, r, capture.Query{From: 1000, To: base + 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Gaps) != 1 || res.Gaps[0].Reason != "before capture started" {
		t.Errorf("gaps = %+v, want the time before capture started", res.Gaps)
	}
}

func TestDamagedAndMissingSegments(t *testing.T) {
	ctx := context.Background()
	r, dir := newRepo(t, "local")
	w := open(t, r, capture.Options{SegmentBytes: 1})
	for i := uint64(1); i <= 4; i++ {
		if err := w.Append(write(capture.KindInsert, base+i, "docs", "x")).Wait(ctx); err != nil {
			t.Fatal(err)
		}
	}
	w.Close(ctx)
	segs, _ := capture.ListSegments(ctx, r)
	if len(segs) != 6 { // open, 4 writes, close
		t.Fatalf("%d segments, want 6", len(segs))
	}
	flip(t, filepath.Join(dir, filepath.FromSlash(segs[2].Name)))
	if err := os.Remove(filepath.Join(dir, filepath.FromSlash(segs[4].Name))); err != nil {
		t.Fatal(err)
	}
	res, err := capture.Read(ctx, r, capture.Query{From: base})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Records) != 2 {
		t.Errorf("%d records, want the 2 of intact segments", len(res.Records))
	}
	var reasons []string
	for _, g := range res.Gaps {
		reasons = append(reasons, g.Reason)
	}
	all := strings.Join(reasons, "\n")
	if len(res.Gaps) != 2 || !strings.Contains(all, "damaged") || !strings.Contains(all, "missing") {
		t.Errorf("gaps:\n%s\nwant one damaged and one missing segment", all)
	}
}

func flip(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)-3] ^= 0xff
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

type observer struct {
	mu        sync.Mutex
	committed int
	lost      []capture.Gap
}

func (o *observer) Committed(int, int, time.Duration) { o.mu.Lock(); o.committed++; o.mu.Unlock() }
func (o *observer) Lost(g capture.Gap, _ error) {
	o.mu.Lock()
	o.lost = append(o.lost, g)
	o.mu.Unlock()
}

func TestFailedCommitIsAGap(t *testing.T) {
	ctx := context.Background()
	// The 2nd segment put fails (segment names start with their 20-digit
	// first timestamp, heartbeats do not): the open segment passes, the
	// first write's segment does not.
	st := faulty.New(mem.New(), 1, faulty.Rule{Ops: []faulty.Op{faulty.Put}, Prefix: repo.CapturePrefix + "g1/0", Nth: 2, Kind: faulty.Permanent})
	r, err := repo.Init(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	obs := &observer{}
	w := open(t, r, capture.Options{SegmentBytes: 1, Observer: obs})
	if err := w.Append(write(capture.KindInsert, base+5, "docs", "lost")).Wait(ctx); err == nil {
		t.Fatal("the write of a failed commit was reported committed")
	}
	if err := w.Append(write(capture.KindInsert, base+9, "docs", "kept")).Wait(ctx); err != nil {
		t.Fatal(err)
	}
	w.Close(ctx)
	if len(obs.lost) != 1 || obs.lost[0].Records != 1 {
		t.Errorf("observer lost = %+v, want one gap of one record", obs.lost)
	}
	res, err := capture.Read(ctx, r, capture.Query{From: base})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Records) != 1 || string(res.Records[0].Request) != "kept" {
		t.Errorf("records = %+v, want only the kept one", res.Records)
	}
	if len(res.Gaps) != 1 || res.Gaps[0].From != base+4 || res.Gaps[0].To != base+5 || res.Gaps[0].Records != 1 {
		t.Errorf("gaps = %+v, want (base+4, base+5] with 1 record", res.Gaps)
	}
}

func TestUncleanStopIsAGap(t *testing.T) {
	ctx := context.Background()
	r, _ := newRepo(t, "mem")
	w := open(t, r, capture.Options{SegmentBytes: 1})
	if err := w.Append(write(capture.KindUpsert, base+1, "docs", "a")).Wait(ctx); err != nil {
		t.Fatal(err)
	}
	// No Close: the process "dies". A new run of the same guard follows.
	later := time.Now().Add(2 * time.Hour)
	w2 := open(t, r, capture.Options{SegmentBytes: 1, Now: func() time.Time { return later }})
	w2.Close(ctx)
	res, err := capture.Read(ctx, r, capture.Query{From: base})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Gaps) != 1 || res.Gaps[0].From != base+1 || res.Gaps[0].To != capture.HybridTS(later) || !strings.Contains(res.Gaps[0].Reason, "without closing") {
		t.Errorf("gaps = %+v, want (last write, restart] for the unclean stop", res.Gaps)
	}
	sum, err := capture.Summarize(ctx, r, capture.Query{Collection: "docs"})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Records != 1 || len(sum.Collections) != 1 || sum.Collections[0].Writes["Upsert"] != 1 {
		t.Errorf("summary = %+v, want one upsert of docs", sum)
	}
}

func TestCommitInterval(t *testing.T) {
	ctx := context.Background()
	r, _ := newRepo(t, "mem")
	w := open(t, r, capture.Options{CommitInterval: 20 * time.Millisecond})
	defer w.Close(ctx)
	tctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := w.Append(write(capture.KindDelete, base, "docs", "d")).Wait(tctx); err != nil {
		t.Fatalf("a record under the segment size was not committed by the interval: %v", err)
	}
}

func TestEncryptedSegmentsHideContent(t *testing.T) {
	ctx := context.Background()
	st := mem.New()
	r, err := repo.InitEncrypted(ctx, st, repo.KeySpec{Passphrase: "test", ScryptWorkFactor: 10})
	if err != nil {
		t.Fatal(err)
	}
	w := open(t, r, capture.Options{})
	w.Append(write(capture.KindInsert, base, "secret_collection", "payload"))
	w.Close(ctx)
	files, _ := st.List(ctx, repo.CapturePrefix)
	for _, f := range files {
		rc, err := st.Open(ctx, f.Name)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		buf.ReadFrom(rc)
		rc.Close()
		if bytes.Contains(buf.Bytes(), []byte("MVCAPT")) || strings.Contains(f.Name, "secret") {
			t.Errorf("%s is stored unencrypted", f.Name)
		}
	}
	res, err := capture.Read(ctx, r, capture.Query{Collection: "secret_collection"})
	if err != nil || len(res.Records) != 1 {
		t.Fatalf("read back: %v, %d records", err, len(res.Records))
	}
}

func TestAppendNowCommitsAtOnce(t *testing.T) {
	ctx := context.Background()
	r, _ := newRepo(t, "mem")
	obs := &observer{}
	w := open(t, r, capture.Options{Observer: obs}) // commit interval: an hour
	defer w.Close(ctx)
	tctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	for i := uint64(1); i <= 3; i++ {
		if err := w.AppendNow(write(capture.KindUpsert, base+i, "docs", "u")).Wait(tctx); err != nil {
			t.Fatalf("AppendNow %d did not commit before the interval: %v", i, err)
		}
	}
	obs.mu.Lock()
	defer obs.mu.Unlock()
	if obs.committed != 4 {
		t.Errorf("%d segments committed, want the open segment and one per waited write (4)", obs.committed)
	}
}
