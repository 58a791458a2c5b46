package offsite_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/milvault/milvault/capture"
	"github.com/milvault/milvault/errkind"
	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/offsite"
	"github.com/milvault/milvault/pitr"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/local"
	"github.com/milvault/milvault/repo/mem"
)

// captureBase is the time of the tests' guard runs, an hour ago.
var captureBase = time.Now().Add(-time.Hour).Truncate(time.Millisecond)

// runGuard captures n writes of default.c, one segment each, at minutes
// from..from+n-1 after captureBase, in one closed run of guard g1.
func runGuard(t *testing.T, r *repo.Repository, from, n int) {
	t.Helper()
	ctx := context.Background()
	open := captureBase.Add(time.Duration(from-1) * time.Minute)
	w, err := capture.Open(ctx, r, capture.Options{GuardID: "g1", SegmentBytes: 1, CommitInterval: time.Hour, Now: func() time.Time { return open }})
	if err != nil {
		t.Fatal(err)
	}
	for k := from; k < from+n; k++ {
		rec := capture.Record{Kind: capture.KindInsert, TS: capture.HybridTS(captureBase.Add(time.Duration(k) * time.Minute)),
			Database: "default", Collection: "c", Request: []byte("write " + time.Duration(k).String())}
		if err := w.Append(rec).Wait(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

// commitCaptureBase commits, in r, a backup of default.c whose snapshot
// is captureBase (the capture log's writes all follow it).
func commitCaptureBase(t *testing.T, r *repo.Repository) *manifest.Manifest {
	t.Helper()
	m := &manifest.Manifest{FormatVersion: manifest.FormatVersion, ID: "20260101T000000Z-ca9001", CreatedAt: captureBase, CompletedAt: captureBase,
		Snapshot:    manifest.Snapshot{Timestamp: capture.HybridTS(captureBase), Time: captureBase},
		Collections: []manifest.Collection{{Database: "default", Name: "c", Schema: []byte(`{}`), Partitions: []manifest.Partition{{Name: "_default"}}}}}
	if err := r.Commit(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	return m
}

func sameLog(t *testing.T, a, b *repo.Repository, at uint64) {
	t.Helper()
	ctx := context.Background()
	q := capture.Query{Database: "default", Collection: "c"}
	ra, errA := capture.Read(ctx, a, q)
	rb, errB := capture.Read(ctx, b, q)
	if errA != nil || errB != nil {
		t.Fatalf("read: %v, %v", errA, errB)
	}
	if len(ra.Records) == 0 || len(ra.Records) != len(rb.Records) || len(ra.Gaps) != len(rb.Gaps) {
		t.Fatalf("source: %d records, %d gaps; copy: %d records, %d gaps", len(ra.Records), len(ra.Gaps), len(rb.Records), len(rb.Gaps))
	}
	for i := range ra.Records {
		if ra.Records[i].TS != rb.Records[i].TS || string(ra.Records[i].Request) != string(rb.Records[i].Request) {
			t.Fatalf("record %d differs: %+v / %+v", i, ra.Records[i], rb.Records[i])
		}
	}
	pa, errA := pitr.MakePlan(ctx, a, pitr.Params{Collection: "c", At: at})
	pb, errB := pitr.MakePlan(ctx, b, pitr.Params{Collection: "c", At: at})
	if errA != nil || errB != nil || pa.BackupID != pb.BackupID || pa.Writes != pb.Writes || pa.Writes == 0 {
		t.Fatalf("plans differ: %+v (%v) / %+v (%v)", pa, errA, pb, errB)
	}
}

func TestCopyCarriesCaptureLog(t *testing.T) {
	for _, encrypted := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "encrypted"}[encrypted], func(t *testing.T) {
			ctx := context.Background()
			src, dst := captureRepos(t, encrypted)
			m := commitCaptureBase(t, src)
			runGuard(t, src, 1, 3) // open, 3 writes, close
			res, err := offsite.Copy(ctx, src, dst, m, offsite.Options{})
			if err != nil || res.Capture.Copied != 5 {
				t.Fatalf("copy: %v, capture %+v; want 5 segments copied", err, res.Capture)
			}
			sameLog(t, src, dst, capture.HybridTS(captureBase.Add(10*time.Minute)))
			runGuard(t, src, 5, 2) // a later run: 4 new segments
			res, err = offsite.Copy(ctx, src, dst, m, offsite.Options{SkipReadBack: true})
			if err != nil || !res.AlreadyCommitted || res.Capture.Copied != 4 || res.Capture.Present != 5 {
				t.Fatalf("rerun: %v, %+v; want the backup already there, 4 new segments, 5 present", err, res)
			}
			sameLog(t, src, dst, capture.HybridTS(captureBase.Add(10*time.Minute)))
		})
	}
}

func captureRepos(t *testing.T, encrypted bool) (src, dst *repo.Repository) {
	t.Helper()
	ctx := context.Background()
	if !encrypted {
		return newRepo(t, mem.New()), newRepo(t, mem.New())
	}
	src, err := repo.InitEncrypted(ctx, mem.New(), repo.KeySpec{Passphrase: "pw", ScryptWorkFactor: 10})
	if err != nil {
		t.Fatal(err)
	}
	dst, err = repo.InitLike(ctx, mem.New(), src)
	if err == nil {
		err = dst.Unlock(ctx, repo.Credentials{Passphrase: "pw"})
	}
	if err != nil {
		t.Fatal(err)
	}
	return src, dst
}

func TestDamagedCaptureSegmentIsNotCopied(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := local.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	src := newRepo(t, st)
	m := commitCaptureBase(t, src)
	runGuard(t, src, 1, 2)
	segs, _ := capture.ListSegments(ctx, src)
	path := filepath.Join(dir, filepath.FromSlash(segs[1].Name))
	data, _ := os.ReadFile(path)
	data[len(data)-2] ^= 0xff
	os.WriteFile(path, data, 0o644)
	dst := newRepo(t, mem.New())
	_, err = offsite.Copy(ctx, src, dst, m, offsite.Options{})
	if errkind.Of(err) != errkind.Damaged || !strings.Contains(err.Error(), segs[1].Name) {
		t.Fatalf("copy of a damaged segment: %v, want a damaged error naming %s", err, segs[1].Name)
	}
	if _, err := dst.ReadCaptureFile(ctx, segs[1].Name); err == nil {
		t.Error("the damaged segment was copied")
	}
}

// TestCopyRespectsPrunes: a fresh copy of a pruned log gets its prune mark
// and reads the same; a destination that pruned its own copy does not get
// the pruned segments again.
func TestCopyRespectsPrunes(t *testing.T) {
	ctx := context.Background()
	src, dst := newRepo(t, mem.New()), newRepo(t, mem.New())
	m := commitCaptureBase(t, src)
	runGuard(t, src, 1, 3) // segments 1-5
	runGuard(t, src, 5, 2) // segments 6-9: open, minutes 5 and 6, close
	minute := func(f float64) uint64 {
		return capture.HybridTS(captureBase.Add(time.Duration(f * float64(time.Minute))))
	}
	if res, err := capture.Prune(ctx, src, capture.PrunePolicy{Needed: map[string]uint64{"default.c": minute(4.5)}}); err != nil || len(res.Segments) != 6 {
		t.Fatalf("prune the source: %v, %+v; want segments 1 to 6", err, res)
	}
	res, err := offsite.Copy(ctx, src, dst, m, offsite.Options{})
	if err != nil || res.Capture.Copied != 4 {
		t.Fatalf("copy: %v, %+v; want the prune mark and segments 7 to 9", err, res.Capture)
	}
	q := capture.Query{Database: "default", Collection: "c"}
	ra, errA := capture.Read(ctx, src, q)
	rb, errB := capture.Read(ctx, dst, q)
	if errA != nil || errB != nil || len(rb.Records) != 2 || len(ra.Gaps) != len(rb.Gaps) || rb.Gaps[0].Reason != capture.ReasonPruned && rb.Gaps[1].Reason != capture.ReasonPruned {
		t.Fatalf("source %+v (%v), copy %+v (%v); want the same 2 writes and the pruned start", ra, errA, rb, errB)
	}
	if pr, err := capture.Prune(ctx, dst, capture.PrunePolicy{Needed: map[string]uint64{"default.c": minute(5.5)}}); err != nil || len(pr.Segments) != 1 {
		t.Fatalf("prune the copy: %v, %+v; want segment 7", err, pr)
	}
	res, err = offsite.Copy(ctx, src, dst, m, offsite.Options{})
	if err != nil || res.Capture.Copied != 0 || res.Capture.Present != 3 {
		t.Fatalf("copy after the destination pruned: %v, %+v; want nothing copied again", err, res.Capture)
	}
	if _, err := dst.ReadCaptureFile(ctx, pr7(t, src)); err == nil {
		t.Error("segment 7, pruned at the destination, was copied again")
	}
}

// pr7 names segment 7 of guard g1 in r.
func pr7(t *testing.T, r *repo.Repository) string {
	t.Helper()
	segs, err := capture.ListSegments(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range segs {
		if s.Seq == 7 {
			return s.Name
		}
	}
	t.Fatal("no segment 7")
	return ""
}
