package pitr_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/milvault/milvault/backup"
	"github.com/milvault/milvault/capture"
	"github.com/milvault/milvault/milvus"
	"github.com/milvault/milvault/repo"
)

// longWorkload is how long TestPointInTimeRestoreLongWorkload writes:
// MILVAULT_TEST_PITR_DURATION (a Go duration, e.g. 11m) or 60 s.
func longWorkload(t *testing.T) time.Duration {
	v := os.Getenv("MILVAULT_TEST_PITR_DURATION")
	if v == "" {
		return 60 * time.Second
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 10*time.Second {
		t.Fatalf("MILVAULT_TEST_PITR_DURATION=%q: want a duration of at least 10s, e.g. 11m", v)
	}
	return d
}

// TestPointInTimeRestoreLongWorkload writes a random mix of inserts,
// upserts and deletes through a capturing guard for a long time (60 s, or
// MILVAULT_TEST_PITR_DURATION: the "10+ minutes" is
// MILVAULT_TEST_PITR_DURATION=11m) with a backup taken in the middle while
// the writes go on, then restores the collection at times spread over the
// whole run (before the middle backup, after it, between two deletes, at
// the end) and compares every row with what the application saw.
func TestPointInTimeRestoreLongWorkload(t *testing.T) {
	addr, r := guardedRepo(t)
	dur := longWorkload(t)
	ctx := context.Background()
	direct := connect(t, addr)
	w := &world{t: t, app: connect(t, guardPort), coll: createCollection(t, direct), cur: state{}}
	w.insert(ids(1, 50), 1)
	b0 := takeBackup(t, direct, r, w.coll)
	time.Sleep(300 * time.Millisecond) // Milvus's timestamps lag the wall clock (see TestPointInTimeRestore)

	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 18))
	start := time.Now()
	b1, done := "", false
	middle := make(chan string, 1)
	go func() { middle <- backupAfter(t, dur/2, direct, r, w.coll) }()
	for val := int64(2); time.Since(start) < dur && !t.Failed(); val++ {
		w.randomWrite(rng, val)
		select {
		case b1 = <-middle:
			done = true
			time.Sleep(300 * time.Millisecond)
		default:
		}
		time.Sleep(time.Duration(100+rng.IntN(300)) * time.Millisecond)
	}
	if !done {
		b1 = <-middle
	}
	if t.Failed() {
		t.FailNow()
	}
	m1, err := r.Find(ctx, b1)
	if err != nil {
		t.Fatal(err)
	}
	first, last := w.steps[0].ts, w.steps[len(w.steps)-1].ts
	t.Logf("%d acknowledged writes over %.1f minutes of server time; middle backup %s at %.1f minutes",
		len(w.steps), minutesBetween(first, last), b1, minutesBetween(first, m1.Snapshot.Timestamp))
	for i, tc := range longCases(t, w, m1.Snapshot.Timestamp, capture.HybridTS(m1.CompletedAt), b0, b1) {
		t.Run(tc.name, func(t *testing.T) {
			target := fmt.Sprintf("%s_long%d", w.coll, i)
			w.restoreAndCompare(t, direct, r, target, tc.at, tc.base, fmt.Sprintf("%.2f minutes", minutesBetween(first, tc.at)))
		})
	}
}

// backupAfter waits d, then backs coll up and returns the backup's ID (""
// after reporting an error: it runs in its own goroutine).
func backupAfter(t *testing.T, d time.Duration, c *milvus.Client, r *repo.Repository, coll string) string {
	time.Sleep(d)
	res, err := backup.Run(context.Background(), backup.Deps{Milvus: c, Repo: r, ToolVersion: "test"}, backup.Params{Collections: []string{coll}})
	if err != nil {
		t.Errorf("middle backup: %v", err)
		return ""
	}
	return res.Manifest.ID
}

// randomWrite makes one write: an insert of 1-5 absent keys, an upsert of
// 1-5 keys (present or not) or a delete of 1-3 present keys, among keys
// 1..500.
func (w *world) randomWrite(rng *rand.Rand, val int64) {
	w.mu.Lock()
	present := make([]int64, 0, len(w.cur))
	for k := range w.cur {
		present = append(present, k)
	}
	w.mu.Unlock()
	slices.Sort(present)
	pick := func(n int, from func() int64) []int64 {
		var out []int64
		for len(out) < n {
			if k := from(); !slices.Contains(out, k) {
				out = append(out, k)
			}
		}
		slices.Sort(out)
		return out
	}
	anyKey := func() int64 { return 1 + rng.Int64N(500) }
	switch p := rng.IntN(10); {
	case p < 2 && len(present) > 10:
		w.delete(pick(1+rng.IntN(3), func() int64 { return present[rng.IntN(len(present))] }))
	case p < 5:
		w.upsert(pick(1+rng.IntN(5), anyKey), val)
	default:
		absent := func() int64 {
			for {
				if k := anyKey(); !slices.Contains(present, k) {
					return k
				}
			}
		}
		if len(present) > 480 {
			w.upsert(pick(1+rng.IntN(5), anyKey), val)
			return
		}
		w.insert(pick(1+rng.IntN(5), absent), val)
	}
}

// longCase is one restore time of the long workload.
type longCase struct {
	name string
	at   uint64
	base string
}

// longCases picks restore times from the recorded steps: a quarter of the
// way in and just before the middle backup's snapshot (base b0), between
// two deletes after the backup completed, three quarters of the way in
// and the last write (base b1).
func longCases(t *testing.T, w *world, snapshot, completed uint64, b0, b1 string) []longCase {
	t.Helper()
	var before, after []step
	for _, s := range w.steps {
		switch {
		case s.ts < snapshot:
			before = append(before, s)
		case s.ts > completed:
			after = append(after, s)
		}
	}
	if len(before) < 4 || len(after) < 4 {
		t.Fatalf("too few writes around the middle backup (%d before, %d after): run longer", len(before), len(after))
	}
	cases := []longCase{
		{"a quarter of the way in", before[len(before)/2].ts, b0},
		{"just before the middle backup", before[len(before)-1].ts, b0},
		{"three quarters of the way in", after[len(after)/2].ts, b1},
		{"at the last write", after[len(after)-1].ts, b1},
	}
	for i := 1; i+1 < len(after); i++ {
		if isDelete(after[i-1]) && !isDelete(after[i]) && isDelete(after[i+1]) {
			return append(cases, longCase{"between two deletes after the backup", after[i].ts, b1})
		}
	}
	t.Log("no write between two deletes after the middle backup in this run")
	return cases
}

func isDelete(s step) bool { return len(s.what) > 6 && s.what[:6] == "delete" }

// minutesBetween returns the time between two hybrid timestamps in minutes.
func minutesBetween(from, to uint64) float64 {
	return float64(int64(to>>18)-int64(from>>18)) / 60000
}
