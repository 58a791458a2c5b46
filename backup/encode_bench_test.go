package backup

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/milvault/milvault/internal/fakemilvus"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/local"
)

// BenchmarkEncodeWorkers measures the pipeline without a server: the
// in-memory fake serves 20,000 rows of 768-dim vectors (about 62 MB raw,
// one partition) and each backup writes them into a local repository in
// 4 MiB files (about 16) with 1, 2 and 4 encode workers. It reports rows/s
// and the process's CPU seconds per backup (cpu-s/op), so that the use of
// several cores shows where a real server would be the bottleneck.
//
//	go test -run '^$' -bench EncodeWorkers -benchtime 3x ./backup/
func BenchmarkEncodeWorkers(b *testing.B) {
	ctx := context.Background()
	s := fakemilvus.New()
	if err := s.Seed(ctx, fakemilvus.Seed{Name: "c", Rows: 20000, Dim: 768, Loaded: true}); err != nil {
		b.Fatal(err)
	}
	for _, w := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("workers=%d", w), func(b *testing.B) {
			store, err := local.New(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			r, err := repo.OpenOrInit(ctx, store)
			if err != nil {
				b.Fatal(err)
			}
			p := Params{Collections: []string{"c"}, ChunkBytes: 4 << 20, EncodeWorkers: w, SkipCountCheck: true}
			cpu0, start := cpuSeconds(), time.Now()
			for range b.N {
				if _, err := Run(ctx, Deps{Milvus: s, Repo: r}, p); err != nil {
					b.Fatal(err)
				}
			}
			secs := time.Since(start).Seconds()
			b.ReportMetric(float64(20000*b.N)/secs, "rows/s")
			b.ReportMetric((cpuSeconds()-cpu0)/float64(b.N), "cpu-s/op")
		})
	}
}

// cpuSeconds returns this process's user+system CPU seconds so far.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
}
