package milvus

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
	"google.golang.org/grpc"
)

// segmentServer answers the scan's Query calls the way a Milvus server with
// several segments does: each segment returns up to limit of its keys that
// pass the filter, smallest first, and the results are merged in key order
// ("reduce_stop_for_best"). Milvus 2.3.5 (modern false) merges until one
// segment's list runs out, past the limit; later servers (modern true) cut
// the merge at the limit and stop early only when a list that was cut at
// the limit runs out. cost counts the rows segments returned, the work a
// server spends on the scan, and keyCost the keys segments returned to
// probes that asked for keys only (much cheaper rows).
type segmentServer[K int64 | string] struct {
	milvuspb.MilvusServiceClient
	segments [][]K
	modern   bool
	mu       sync.Mutex
	cost     int
	keyCost  int
	calls    int
}

func newSegmentServer[K int64 | string](keys []K, segments int, r *rand.Rand) *segmentServer[K] {
	s := &segmentServer[K]{segments: make([][]K, segments)}
	for _, k := range keys {
		i := r.IntN(segments)
		s.segments[i] = append(s.segments[i], k)
	}
	for _, seg := range s.segments {
		slices.Sort(seg)
	}
	return s
}

func (s *segmentServer[K]) Query(_ context.Context, q *milvuspb.QueryRequest, _ ...grpc.CallOption) (*milvuspb.QueryResults, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.calls++; s.calls > 20000 {
		return nil, fmt.Errorf("more than 20,000 queries; last filter %q", q.GetExpr())
	}
	limit := 0
	for _, kv := range q.GetQueryParams() {
		if kv.GetKey() == "limit" {
			limit, _ = strconv.Atoi(kv.GetValue())
		}
	}
	pass, err := parseFilter[K](q.GetExpr())
	if err != nil {
		return nil, err
	}
	var lists [][]K
	for _, seg := range s.segments {
		var got []K
		for _, k := range seg {
			if len(got) < limit && pass(k) {
				got = append(got, k)
			}
		}
		if len(q.GetOutputFields()) == 1 && q.GetOutputFields()[0] == "k" {
			s.keyCost += len(got)
		} else {
			s.cost += len(got)
		}
		if len(got) > 0 {
			lists = append(lists, got)
		}
	}
	return &milvuspb.QueryResults{Status: &commonpb.Status{}, FieldsData: []*schemapb.FieldData{keyColumn(mergeStopForBest(lists, limit, s.modern))}}, nil
}

func mergeStopForBest[K int64 | string](lists [][]K, limit int, modern bool) []K {
	cur := make([]int, len(lists))
	var out []K
	for (!modern || len(out) < limit) && len(lists) > 0 {
		best := -1
		for i, l := range lists {
			if cur[i] == len(l) && (!modern || len(l) == limit) {
				return out
			}
			if cur[i] == len(l) {
				continue
			}
			if best < 0 || l[cur[i]] < lists[best][cur[best]] {
				best = i
			}
		}
		if best < 0 {
			return out
		}
		out = append(out, lists[best][cur[best]])
		cur[best]++
	}
	return out
}

func keyColumn[K int64 | string](keys []K) *schemapb.FieldData {
	f := &schemapb.FieldData{FieldName: "k"}
	switch ks := any(keys).(type) {
	case []int64:
		f.Field = &schemapb.FieldData_Scalars{Scalars: &schemapb.ScalarField{Data: &schemapb.ScalarField_LongData{LongData: &schemapb.LongArray{Data: ks}}}}
	case []string:
		f.Field = &schemapb.FieldData_Scalars{Scalars: &schemapb.ScalarField{Data: &schemapb.ScalarField_StringData{StringData: &schemapb.StringArray{Data: ks}}}}
	}
	return f
}

// parseFilter reads the filters the scan writes: "" or terms "k op value"
// joined by " and ".
func parseFilter[K int64 | string](expr string) (func(K) bool, error) {
	if expr == "" {
		return func(K) bool { return true }, nil
	}
	var tests []func(K) bool
	for _, term := range strings.Split(expr, " and ") {
		parts := strings.SplitN(term, " ", 3)
		if len(parts) != 3 || parts[0] != "k" {
			return nil, fmt.Errorf("unexpected filter term %q", term)
		}
		v, err := parseKey[K](parts[2])
		if err != nil {
			return nil, fmt.Errorf("filter %q: %w", expr, err)
		}
		ops := map[string]func(int) bool{
			">": func(c int) bool { return c > 0 }, ">=": func(c int) bool { return c >= 0 },
			"<=": func(c int) bool { return c <= 0 }, "<": func(c int) bool { return c < 0 },
		}
		op, ok := ops[parts[1]]
		if !ok {
			return nil, fmt.Errorf("unexpected operator in %q", term)
		}
		tests = append(tests, func(k K) bool { return op(cmp.Compare(k, v)) })
	}
	return func(k K) bool {
		for _, t := range tests {
			if !t(k) {
				return false
			}
		}
		return true
	}, nil
}

func parseKey[K int64 | string](lit string) (K, error) {
	var zero K
	switch any(zero).(type) {
	case int64:
		// The server's parser cannot read -2^63 (see lowerExpr).
		v, err := strconv.ParseInt(strings.TrimPrefix(lit, "-"), 10, 64)
		if strings.HasPrefix(lit, "-") {
			v = -v
		}
		return any(v).(K), err
	}
	v, err := strconv.Unquote(lit)
	return any(v).(K), err
}

// scanAll scans srv with batches of batch rows and returns the keys read.
func scanAll[K int64 | string](t *testing.T, srv *segmentServer[K], pkType schemapb.DataType, batch int, after any) ([]K, ScanResult) {
	t.Helper()
	return scanWith(t, srv, ScanRequest{PrimaryKey: &schemapb.FieldSchema{Name: "k", DataType: pkType}, BatchRows: batch, After: after})
}

// scanWith scans srv with req and returns the keys read.
func scanWith[K int64 | string](t *testing.T, srv *segmentServer[K], req ScanRequest) ([]K, ScanResult) {
	t.Helper()
	c := &Client{svc: srv}
	var got []K
	res, err := c.Scan(context.Background(), req, func(b Batch) error {
		col := b.Fields[0].GetScalars()
		switch any(got).(type) {
		case []int64:
			got = append(got, any(col.GetLongData().GetData()).([]K)...)
		case []string:
			got = append(got, any(col.GetStringData().GetData()).([]K)...)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got, res
}

func intKeyShapes(r *rand.Rand) map[string][]int64 {
	shapes := map[string][]int64{
		"dense":      seq(0, 20000, 1),
		"extremes":   {math.MinInt64, math.MinInt64 + 1, -1, 0, 1, math.MaxInt64 - 1, math.MaxInt64},
		"one":        {42},
		"empty":      nil,
		"autoid":     nil,
		"gaps":       append(append(seq(-5000, 0, 1), seq(1<<40, 1<<40+8000, 3)...), seq(math.MaxInt64-3000, math.MaxInt64, 1)...),
		"sparse":     nil,
		"clustered":  nil,
		"dense tail": append(seq(math.MinInt64, math.MinInt64+3, 1), seq(100, 12100, 1)...),
	}
	base := int64(446_000_000_000_000_000) // Milvus auto IDs: a timestamp high, a counter low
	for b := range 10 {
		shapes["autoid"] = append(shapes["autoid"], seq(base+int64(b)<<18, base+int64(b)<<18+1500, 1)...)
	}
	for range 6000 {
		shapes["sparse"] = append(shapes["sparse"], r.Int64()-r.Int64())
		c := int64(r.IntN(5)) << 50
		shapes["clustered"] = append(shapes["clustered"], c+r.Int64N(100000))
	}
	return shapes
}

func seq(from, to, step int64) []int64 {
	var out []int64
	for k := from; k < to && k >= from; k += step {
		out = append(out, k)
	}
	return out
}

func stringKeyShapes(r *rand.Rand) map[string][]string {
	shapes := map[string][]string{
		"empty string and extremes": {"", " ", "\x00", "\x01a", "~", "\x7f", "ü", "✓", "\U0010FFFF", strings.Repeat("z", 300)},
		"decimal ids":               nil,
		"uuids":                     nil,
		"long shared prefix":        nil,
		"unicode":                   nil,
		"mixed lengths":             nil,
	}
	long := strings.Repeat("p", 1000)
	for i := range 9000 {
		shapes["decimal ids"] = append(shapes["decimal ids"], fmt.Sprintf("user_%010d", i*7))
		shapes["uuids"] = append(shapes["uuids"], fmt.Sprintf("%08x-%04x-%012x", r.Uint32(), r.IntN(1<<16), r.Uint64()>>16))
		shapes["long shared prefix"] = append(shapes["long shared prefix"], fmt.Sprintf("%s%06d", long, i))
		shapes["unicode"] = append(shapes["unicode"], fmt.Sprintf("ü✓%s%d", string(rune(0x400+r.IntN(2000))), i))
		shapes["mixed lengths"] = append(shapes["mixed lengths"], strings.Repeat(string(rune('a'+i%26)), 1+r.IntN(40))+strconv.Itoa(i))
	}
	return shapes
}

func distinctSorted[K int64 | string](keys []K) []K {
	out := slices.Clone(keys)
	slices.Sort(out)
	return slices.Compact(out)
}

// TestScanRangesReadEveryKeyOnce scans key sets of many shapes through a
// server with many segments that stops merging early, and checks that every
// key comes back exactly once and in order, and that the segments' work
// stays about one row per row read (an unbounded scan would cost about the
// number of segments per row).
func TestScanRangesReadEveryKeyOnce(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, modern := range []bool{false, true} {
		for name, keys := range intKeyShapes(r) {
			keys = distinctSorted(keys)
			srv := newSegmentServer(keys, 40, r)
			srv.modern = modern
			got, res := scanAll(t, srv, schemapb.DataType_Int64, 500, nil)
			checkScan(t, fmt.Sprintf("int64 %s (modern %v)", name, modern), got, keys, res, srv)
		}
		for name, keys := range stringKeyShapes(r) {
			keys = distinctSorted(keys)
			srv := newSegmentServer(keys, 40, r)
			srv.modern = modern
			got, res := scanAll(t, srv, schemapb.DataType_VarChar, 500, nil)
			checkScan(t, fmt.Sprintf("varchar %s (modern %v)", name, modern), got, keys, res, srv)
		}
	}
}

func checkScan[K int64 | string](t *testing.T, name string, got, want []K, res ScanResult, srv *segmentServer[K]) {
	t.Helper()
	if !slices.Equal(got, want) || res.Rows != int64(len(want)) {
		t.Errorf("%s: scan read %d keys (Rows %d), want %d exactly once in order", name, len(got), res.Rows, len(want))
		return
	}
	perRow := float64(srv.cost) / float64(max(1, len(want)))
	t.Logf("%s: %d rows, %d queries (%d bounded, %d probes), segment rows per row %.2f, probed keys per row %.2f",
		name, len(want), res.Queries, res.Bounded, res.Probes, perRow, float64(srv.keyCost)/float64(max(1, len(want))))
	if len(want) >= 5000 && perRow > 5 {
		t.Errorf("%s: segments returned %.1f rows per row read, want at most 5 with 40 segments (bounded ranges; open ranges cost about one per segment)", name, perRow)
	}
	if res.Queries != res.Bounded+res.Probes {
		t.Errorf("%s: %d queries, %d bounded and %d probes: an open range was read", name, res.Queries, res.Bounded, res.Probes)
	}
}

// TestScanAfter resumes scans after a key: only the keys above it come
// back, including after the largest Int64 (none).
func TestScanAfter(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	keys := distinctSorted(append(seq(0, 3000, 2), math.MaxInt64))
	srv := newSegmentServer(keys, 5, r)
	for _, after := range []int64{-1, 0, 1, 1500, 2998, math.MaxInt64 - 1, math.MaxInt64} {
		got, _ := scanAll(t, srv, schemapb.DataType_Int64, 100, after)
		want := keys[sortIndex(keys, after):]
		if !slices.Equal(got, want) {
			t.Errorf("after %d: read %d keys, want %d", after, len(got), len(want))
		}
	}
	skeys := distinctSorted([]string{"", "a", "b", "b\x00", "ü"})
	ssrv := newSegmentServer(skeys, 2, r)
	got, _ := scanAll(t, ssrv, schemapb.DataType_VarChar, 2, "b")
	if want := []string{"b\x00", "ü"}; !slices.Equal(got, want) {
		t.Errorf("after \"b\": got %q, want %q", got, want)
	}
	c := &Client{svc: ssrv}
	_, err := c.Scan(context.Background(), ScanRequest{PrimaryKey: &schemapb.FieldSchema{Name: "k", DataType: schemapb.DataType_VarChar}, BatchRows: 2, After: int64(3)}, func(Batch) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "VarChar") {
		t.Errorf("int64 After on a VarChar key: error %v, want one naming the key type", err)
	}
}

func sortIndex(keys []int64, after int64) int {
	i, found := slices.BinarySearch(keys, after)
	if found {
		i++
	}
	return i
}

// TestStringSpaceOrder checks that positions never decrease as keys
// increase, and that built keys lie at or after their position.
func TestStringSpaceOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	alphabet := []string{"", " ", "\x00", "\x1f", "a", "b", "~", "\x7f", "ö", "ü", "✓", "0", "9"}
	var keys []string
	for range 3000 {
		var b strings.Builder
		for range r.IntN(6) {
			b.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		keys = append(keys, b.String())
	}
	keys = distinctSorted(keys)
	for _, sp := range []stringSpace{newStringSpace("a", "b"), {prefix: "a", end: 4}, {prefix: "ü", end: 5}} {
		for i := 1; i < len(keys); i++ {
			if sp.pos(keys[i-1]).Cmp(sp.pos(keys[i])) > 0 {
				t.Fatalf("space %+v: pos(%q) > pos(%q)", sp, keys[i-1], keys[i])
			}
		}
		for _, k := range keys {
			p := sp.pos(k)
			if b, ok := sp.key(p); ok && sp.pos(b).Cmp(p) != 0 {
				t.Errorf("space %+v: key(pos(%q)) = %q at another position", sp, k, b)
			}
		}
	}
}

// TestScanParallel scans the same key shapes with several streams (chunks
// from a key pass, read at once, handed over in key order) and checks that
// every key comes back exactly once and in order, also when the scan starts
// after a key.
func TestScanParallel(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, workers := range []int{2, 3, 4} {
		for name, keys := range intKeyShapes(r) {
			keys = distinctSorted(keys)
			srv := newSegmentServer(keys, 10, r)
			got, res := scanWith(t, srv, ScanRequest{PrimaryKey: &schemapb.FieldSchema{Name: "k", DataType: schemapb.DataType_Int64}, BatchRows: 300, Workers: workers})
			if !slices.Equal(got, keys) || res.Rows != int64(len(keys)) {
				t.Errorf("int64 %s, %d workers: read %d keys (Rows %d), want %d once in order", name, workers, len(got), res.Rows, len(keys))
			}
			if len(keys) > 2 {
				after := keys[len(keys)/3]
				got, _ := scanWith(t, srv, ScanRequest{PrimaryKey: &schemapb.FieldSchema{Name: "k", DataType: schemapb.DataType_Int64}, BatchRows: 300, Workers: workers, After: after})
				if want := keys[len(keys)/3+1:]; !slices.Equal(got, want) {
					t.Errorf("int64 %s, %d workers, after %d: read %d keys, want %d", name, workers, after, len(got), len(want))
				}
			}
		}
		for name, keys := range stringKeyShapes(r) {
			keys = distinctSorted(keys)
			srv := newSegmentServer(keys, 10, r)
			got, _ := scanWith(t, srv, ScanRequest{PrimaryKey: &schemapb.FieldSchema{Name: "k", DataType: schemapb.DataType_VarChar}, BatchRows: 300, Workers: workers})
			if !slices.Equal(got, keys) {
				t.Errorf("varchar %s, %d workers: read %d keys, want %d once in order", name, workers, len(got), len(keys))
			}
		}
	}
}

// TestScanParallelStopsOnError checks that an error of the caller's
// function ends a parallel scan with that error.
func TestScanParallelStopsOnError(t *testing.T) {
	srv := newSegmentServer(seq(0, 20000, 1), 4, rand.New(rand.NewPCG(9, 10)))
	c := &Client{svc: srv}
	stop := fmt.Errorf("stop here")
	calls := 0
	_, err := c.Scan(context.Background(), ScanRequest{PrimaryKey: &schemapb.FieldSchema{Name: "k", DataType: schemapb.DataType_Int64}, BatchRows: 100, Workers: 4},
		func(Batch) error {
			if calls++; calls == 5 {
				return stop
			}
			return nil
		})
	if err != stop || calls != 5 {
		t.Errorf("error %v after %d batches, want %v after 5", err, calls, stop)
	}
}
