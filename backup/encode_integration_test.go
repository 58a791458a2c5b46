package backup

import (
	"context"
	"slices"
	"testing"

	"github.com/milvault/milvault/internal/testenv"
	"github.com/milvault/milvault/milvus"
	"github.com/milvault/milvault/repo/mem"
)

// TestEncodeWorkersSameRowsOnServer backs up a collection of the real
// server with one and with four encode workers into many small files: both
// backups must hold every row, in the same order, in as many files.
func TestEncodeWorkersSameRowsOnServer(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, tg testenv.Target, c *milvus.Client) {
		ctx := context.Background()
		name := testenv.Collection(t, c, "bk_encode", 3000, 32)
		var rows [][]string
		var files []int
		for _, workers := range []int{1, 4} {
			r := newTestRepo(t, mem.New())
			res, err := Run(ctx, Deps{Milvus: c, Repo: r}, Params{Collections: []string{name}, ChunkBytes: 64 << 10, QueryBatchRows: 500, EncodeWorkers: workers})
			if err != nil {
				t.Fatalf("%d workers: %v", workers, err)
			}
			rows = append(rows, backupRows(t, r, res.Manifest))
			files = append(files, len(res.Manifest.Files()))
		}
		if len(rows[0]) != 3000 || !slices.Equal(rows[0], rows[1]) || files[0] != files[1] || files[0] < 3 {
			t.Errorf("one worker: %d rows in %d files; four: %d rows in %d files; want 3000 equal rows, in order, in as many (several) files",
				len(rows[0]), files[0], len(rows[1]), files[1])
		}
		t.Logf("%s: 3000 rows in %d files with one and with four encode workers", tg.Name, files[0])
	})
}
