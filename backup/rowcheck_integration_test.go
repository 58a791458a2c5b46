package backup_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/milvault/milvault/backup"
	"github.com/milvault/milvault/internal/testenv"
	"github.com/milvault/milvault/milvus"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/local"
)

// shortClient is a real server whose scans end after their first batch
// (CountRows is the server's).
type shortClient struct {
	*milvus.Client
}

func (s shortClient) Scan(ctx context.Context, req milvus.ScanRequest, fn func(milvus.Batch) error) (milvus.ScanResult, error) {
	return s.Client.Scan(ctx, req, firstBatchOnly(fn))
}

func localRepo(t *testing.T) *repo.Repository {
	t.Helper()
	s, err := local.New(filepath.Join(t.TempDir(), "repo"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := repo.OpenOrInit(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestRowCountCheckOnServer checks the cross-check of rows read against
// count(*) on the real servers: a backup whose scan ends early fails with
// the server's count (before the check it was kept, silently short); a
// collection written right before the backup (rows inserted and deleted,
// not flushed) is backed up whole; and a collection holding a primary key
// inserted twice, which count(*) counts twice, fails the check unless it
// is turned off.
func TestRowCountCheckOnServer(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, tg testenv.Target, c *milvus.Client) {
		ctx := context.Background()
		name := fmt.Sprintf("rowcheck_%d", time.Now().UnixNano()%1e9)
		createPinCollection(t, c, name)
		if _, err := pinInsert(ctx, c, name, 0, 600); err != nil {
			t.Fatal(err)
		}
		if err := c.Delete(ctx, "default", name, "pk in [0, 1, 2]"); err != nil {
			t.Fatal(err)
		}
		if _, err := c.CountRows(ctx, "default", name, nil); err != nil {
			t.Skipf("%s: count(*) fails, so backups there are not cross-checked (they say so in a progress note): %v", tg.Name, err)
		}
		p := backup.Params{Collections: []string{name}, QueryBatchRows: 100}
		r := localRepo(t)
		_, err := backup.Run(ctx, backup.Deps{Milvus: shortClient{c}, Repo: r}, p)
		var rce *backup.RowCountError
		if !errors.As(err, &rce) || rce.Read <= 0 || rce.Read >= 597 || rce.Counted != 597 {
			t.Fatalf("%s: backup of a scan that ended early: got %v, want a *RowCountError reading one batch of the 597 rows", tg.Name, err)
		}
		res, err := backup.Run(ctx, backup.Deps{Milvus: c, Repo: r}, p)
		if err != nil {
			t.Fatal(err)
		}
		if got := res.Manifest.Collections[0].Rows; got != 597 {
			t.Fatalf("%s: backup right after the writes holds %d rows, want 597", tg.Name, got)
		}

		// Keys 595-599 inserted a second time: count(*) says 602.
		if _, err := pinInsert(ctx, c, name, 595, 5); err != nil {
			t.Fatal(err)
		}
		n, err := c.CountRows(ctx, "default", name, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: count(*) with 5 keys inserted twice: %d", tg.Name, n)
		_, err = backup.Run(ctx, backup.Deps{Milvus: c, Repo: r}, p)
		if n == 597 {
			// The server counts each key once: nothing to tell apart.
			if err != nil {
				t.Fatal(err)
			}
			return
		}
		if !errors.As(err, &rce) || rce.Read != 597 || rce.Counted != n {
			t.Fatalf("%s: backup with keys inserted twice: got %v, want a *RowCountError reading 597 of %d", tg.Name, err, n)
		}
		p.SkipCountCheck = true
		if res, err = backup.Run(ctx, backup.Deps{Milvus: c, Repo: r}, p); err != nil {
			t.Fatal(err)
		}
		if got := res.Manifest.Collections[0].Rows; got != 597 {
			t.Fatalf("%s: backup with --skip-count-check holds %d rows, want the 597 keys", tg.Name, got)
		}
	})
}
