package blob

import (
	"bufio"
	"context"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// BenchmarkPutS3 streams one large object (1 GiB, or
// MILVAULT_BENCH_PUT_BYTES) through Put into the MinIO test server and
// reports the peak Go heap and the peak resident set size of the process,
// which must stay bounded by the part buffers, not grow with the object:
//
//	scripts/minio.sh start && source .milvus-test/minio.env
//	go test ./repo/blob -run '^$' -bench PutS3 -benchtime 1x
func BenchmarkPutS3(b *testing.B) {
	url := s3TestURL(b)
	size := int64(1 << 30)
	if v := os.Getenv("MILVAULT_BENCH_PUT_BYTES"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			b.Fatalf("MILVAULT_BENCH_PUT_BYTES: %v", err)
		}
		size = n
	}
	s := openCleaned(b, url)
	runtime.GC()
	peak := sampleHeap()
	b.SetBytes(size)
	b.ResetTimer()
	for range b.N {
		if err := s.Put(context.Background(), "bench/big", pattern(size)); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	heap := peak()
	b.ReportMetric(float64(heap)/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(peakRSS(b))/(1<<20), "peak-RSS-MiB")
}

// sampleHeap samples the in-use heap every 20 ms until the returned
// function is called, which returns the peak.
func sampleHeap() func() uint64 {
	var mu sync.Mutex
	var peak uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			mu.Lock()
			peak = max(peak, ms.HeapInuse)
			mu.Unlock()
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	return func() uint64 {
		close(done)
		wg.Wait()
		return peak
	}
}

// peakRSS reads the process's high-water resident set size (VmHWM).
func peakRSS(tb testing.TB) int64 {
	tb.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		tb.Skipf("no /proc/self/status: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}
