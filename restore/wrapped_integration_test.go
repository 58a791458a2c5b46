package restore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/milvault/milvault/internal/testbackup"
	"github.com/milvault/milvault/internal/testenv"
	"github.com/milvault/milvault/milvus"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/faulty"
	"github.com/milvault/milvault/repo/limit"
	"github.com/milvault/milvault/restore"
)

// TestRestoreReadsThroughWrappers restores a backup from a local repository
// opened through faulty and limit: a fault injected into the first ranged
// read of a data file (after its checksum read) fails the restore with that
// fault, and a clean restore reads every data file through limit twice
// (once for the checksums, once to decode its rows).
func TestRestoreReadsThroughWrappers(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, tg testenv.Target, c *milvus.Client) {
		ctx := context.Background()
		l, m := testbackup.Local(t)
		path := m.Files()[1].Path
		broken := limit.New(faulty.New(l, 1, faulty.Rule{Ops: []faulty.Op{faulty.Open}, Prefix: path, Nth: 2, Kind: faulty.Permanent}), limit.Options{})
		_, err := restore.Run(ctx, restore.Deps{Milvus: c, Repo: reopen(t, broken)}, m, restore.Params{Target: scratchName(t, c)})
		if err == nil || !strings.Contains(err.Error(), "injected permanent fault: open "+path) {
			t.Fatalf("restore with a read fault = %v, want an error naming the fault and %s", err, path)
		}
		counted := limit.New(l, limit.Options{})
		res, err := restore.Run(ctx, restore.Deps{Milvus: c, Repo: reopen(t, counted)}, m, restore.Params{Target: scratchName(t, c)})
		if err != nil || res.Collections[0].Rows != m.TotalRows() {
			t.Fatalf("restore = %+v, %v; want %d rows", res, err, m.TotalRows())
		}
		total := m.TotalBytes()
		if got := counted.Downloaded(); got < total+total*9/10 || got > 3*total {
			t.Errorf("restore read %d bytes through limit, want about twice the %d bytes of the data files", got, total)
		}
	})
}

func reopen(t *testing.T, s repo.Store) *repo.Repository {
	t.Helper()
	r, err := repo.Open(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// scratchName returns a fresh collection name that is dropped after the test.
func scratchName(t *testing.T, c *milvus.Client) string {
	name := fmt.Sprintf("wrapped_%d", rand.Uint32())
	t.Cleanup(func() { c.DropCollection(context.Background(), "default", name) })
	return name
}
