package backup_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/milvault/milvault/backup"
	"github.com/milvault/milvault/internal/testenv"
	"github.com/milvault/milvault/milvus"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/mem"
	"github.com/milvault/milvault/verify"
)

// gatedStore holds every data file Put of the backups it is armed for
// until open is closed, and says on reached when one is held.
type gatedStore struct {
	repo.Store
	reached chan string
	open    chan struct{}
	armed   bool
}

func (s *gatedStore) Put(ctx context.Context, name string, r io.Reader) error {
	if s.armed && strings.HasPrefix(name, "data/") {
		select {
		case <-s.open: // released: no more holding
		default:
			s.reached <- name
			<-s.open
		}
	}
	return s.Store.Put(ctx, name, r)
}

// TestBackupsShareTheRepository holds two backups at their first data file
// at once (so both run together, under shared locks), and meanwhile
// verifies an earlier backup and tries to prune: the verification runs,
// the prune's exclusive lock is refused and deletes nothing. Released, both
// backups commit.
func TestBackupsShareTheRepository(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, tg testenv.Target, c *milvus.Client) {
		ctx := context.Background()
		name := testenv.Collection(t, c, "bk_shared", 500, 8)
		s := &gatedStore{Store: mem.New(), reached: make(chan string, 2), open: make(chan struct{})}
		r, err := repo.OpenOrInit(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		earlier, err := backup.Run(ctx, backup.Deps{Milvus: c, Repo: r}, backup.Params{Collections: []string{name}})
		if err != nil {
			t.Fatal(err)
		}
		s.armed = true
		type outcome struct {
			res *backup.Result
			err error
		}
		finished := make(chan outcome, 2)
		for _, n := range []string{"one", "two"} {
			go func() {
				res, err := backup.Run(ctx, backup.Deps{Milvus: c, Repo: r}, backup.Params{Name: n, Collections: []string{name}})
				finished <- outcome{res, err}
			}()
		}
		var held []string // both run now, neither has stored a file
		for len(held) < 2 {
			select {
			case f := <-s.reached:
				held = append(held, f)
			case o := <-finished:
				close(s.open)
				t.Fatalf("a backup ended while the other was held: %+v", o)
			}
		}
		if _, err := verify.Run(ctx, verify.Deps{Repo: r}, earlier.Manifest, verify.Options{Mode: verify.ModeChecksum}); err != nil {
			t.Errorf("verify while two backups run: %v", err)
		}
		_, _, err = r.Lock(ctx, repo.LockOptions{Exclusive: true, Operation: "prune"})
		var le *repo.LockedError
		if !errors.As(err, &le) || len(le.Holders) != 2 {
			t.Errorf("prune's lock during two backups = %v, want refused naming both", err)
		}
		if err := r.Delete(ctx, nil, earlier.Manifest.ID); !errors.As(err, &le) {
			t.Errorf("delete during backups = %v, want refused", err)
		}
		close(s.open)
		var ids []string
		for range 2 {
			o := <-finished
			if o.err != nil {
				t.Fatalf("backup alongside another: %v", o.err)
			}
			ids = append(ids, o.res.Manifest.ID)
		}
		list, _, err := r.List(ctx)
		if err != nil || len(list) != 3 {
			t.Fatalf("List = %d backups, %v; want 3 (earlier, one, two)", len(list), err)
		}
		if locks, _ := r.Locks(ctx); len(locks) != 0 {
			t.Errorf("locks left: %v", locks)
		}
		t.Logf("%s: backups %v held at %v ran together", tg.Name, ids, held)
	})
}
