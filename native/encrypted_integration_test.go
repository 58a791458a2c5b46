package native_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/milvault/milvault/backup"
	"github.com/milvault/milvault/native"
	"github.com/milvault/milvault/progress"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/local"
	"github.com/milvault/milvault/restore"
)

// TestNativeEncryptedRoundTrip (Milvus 2.3.5): a native backup into an
// encrypted repository, interrupted, resumes through its keyed source
// hints and stores every segment file encrypted; a second backup stores
// nothing new (dedup by keyed name, through the encrypted
// manifests); the checksum verification passes without the key; drop and
// native restore with the key compare equal row by row.
func TestNativeEncryptedRoundTrip(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	name := makeCollection(t, e.c, 3000)
	want := digest(t, e.c, name)
	dir := filepath.Join(t.TempDir(), "repo")
	s, err := local.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	r, err := repo.InitEncrypted(ctx, s, repo.KeySpec{Passphrase: "correct horse", ScryptWorkFactor: 10})
	if err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	prog := &cancelAfter{Progress: progress.Nop, n: 10, cancel: cancel}
	if _, err := native.Backup(cctx, native.Deps{Milvus: e.c, Repo: r, Storage: e.storage, Progress: prog}, backup.Params{Collections: []string{name}}); err == nil {
		t.Fatal("interrupted backup succeeded")
	}
	first := e.backup(t, r, name)
	second := e.backup(t, r, name)
	t.Logf("resumed: %+v; second: %+v", first.Stats, second.Stats)
	// Copies run several at once: files stored without a hint are read
	// again but not stored again (Stored <= Copied).
	if f := first.Stats; f.Reused < 10 || f.Reused+f.Copied != f.Files || f.Stored > f.Copied {
		t.Fatalf("resumed run %+v: want the interrupted run's files reused unread (keyed source hints)", f)
	}
	if second.Stats.Files != first.Stats.Files {
		// Milvus compacted the collection's segments in between: the new
		// segments' files are new. Back up once more; nothing changed since.
		t.Logf("segments changed between the backups (compaction): %d then %d files; backing up again", first.Stats.Files, second.Stats.Files)
		prev := second
		second = e.backup(t, r, name)
		if second.Stats.Files == prev.Stats.Files && second.Stats.Stored != 0 {
			t.Fatalf("third backup stored %d of %d unchanged files; want none", second.Stats.Stored, second.Stats.Files)
		}
	} else if second.Stats.Stored != 0 {
		t.Fatalf("second backup stored %d of %d files; want none", second.Stats.Stored, second.Stats.Files)
	}
	m := second.Manifest
	for _, seg := range m.Collections[0].Segments {
		for _, b := range seg.Binlogs {
			raw, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(b.File.Path)))
			if err != nil || !bytes.HasPrefix(raw, []byte("age-encryption.org/")) {
				t.Fatalf("%s is not an age file (%v)", b.File.Path, err)
			}
		}
	}
	keyless, err := repo.Open(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if rep := checksumOK(t, keyless, m); !rep.OK || rep.Files == 0 {
		t.Fatalf("keyless checksum verification: %+v", rep)
	}
	if err := e.c.DropCollection(ctx, "default", name); err != nil {
		t.Fatal(err)
	}
	rr, err := e.restore(r, m, restore.Params{})
	if err != nil {
		t.Fatal(err)
	}
	if got := rr.Collections[0]; got.Rows != m.Collections[0].Rows || got.Method != restore.MethodBinlogImport {
		t.Fatalf("restored %+v, want %d rows by binlog import", got, m.Collections[0].Rows)
	}
	if got := digest(t, e.c, name); !reflect.DeepEqual(got, want) {
		t.Fatalf("restored rows differ:\n got %+v\nwant %+v", got, want)
	}
}
