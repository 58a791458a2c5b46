package pitr_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"google.golang.org/protobuf/proto"

	"github.com/milvault/milvault/capture"
	"github.com/milvault/milvault/pitr"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/mem"
)

// ddlLog commits a backup of docs at minute 0 (completed at 1) and a
// capture log holding recs, which starts before the backup.
func ddlLog(t *testing.T, recs ...capture.Record) *repo.Repository {
	t.Helper()
	ctx := context.Background()
	r, err := repo.Init(ctx, mem.New())
	if err != nil {
		t.Fatal(err)
	}
	commitBackup(t, r, 0, minute(0), minute(1), false)
	w, err := capture.Open(ctx, r, capture.Options{GuardID: "g", Now: func() time.Time { return t0.Add(-time.Minute) }})
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range recs {
		w.Append(rec)
	}
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	return r
}

func at(m int, kind capture.Kind, coll string) capture.Record {
	return capture.Record{Kind: kind, TS: capture.HybridTS(minute(m)), Database: "default", Collection: coll, Request: []byte{}}
}

func rename(m int, from, to string) capture.Record {
	r := at(m, capture.KindRenameCollection, from)
	r.Request, _ = proto.Marshal(&milvuspb.RenameCollectionRequest{DbName: "default", OldName: from, NewName: to, NewDBName: "default"})
	return r
}

func TestPlanFollowsRename(t *testing.T) {
	r := ddlLog(t, at(2, capture.KindDelete, "docs"), rename(3, "docs", "docs2"), at(4, capture.KindDelete, "docs2"), at(4, capture.KindDelete, "other"))
	pl, err := pitr.MakePlan(context.Background(), r, pitr.Params{Collection: "docs2", At: capture.HybridTS(minute(5))})
	if err != nil {
		t.Fatal(err)
	}
	if pl.BackupID != "b0" || pl.BackupCollection != "default.docs" {
		t.Errorf("base %s of %s, want b0 of default.docs", pl.BackupID, pl.BackupCollection)
	}
	if pl.Counts["Delete"] != 2 || pl.Counts["RenameCollection"] != 1 || pl.Writes != 3 {
		t.Errorf("replay %v (%d records), want the deletes under both names and the rename", pl.Counts, pl.Writes)
	}
	_, err = pitr.MakePlan(context.Background(), r, pitr.Params{Collection: "docs", At: capture.HybridTS(minute(5))})
	var re *pitr.RenamedError
	if !errors.As(err, &re) || !strings.Contains(err.Error(), "renamed to default.docs2") {
		t.Errorf("docs after its rename: got %v, want a RenamedError naming docs2", err)
	}
}

func TestPlanDroppedAndRecreated(t *testing.T) {
	r := ddlLog(t, at(2, capture.KindDropCollection, "docs"), at(3, capture.KindCreateCollection, "docs"), at(4, capture.KindDelete, "docs"))
	ctx := context.Background()
	_, err := pitr.MakePlan(ctx, r, pitr.Params{Collection: "docs", At: capture.HybridTS(minute(2).Add(time.Second))})
	var de *pitr.DroppedError
	if !errors.As(err, &de) || de.DroppedAt != capture.HybridTS(minute(2)) {
		t.Errorf("after the drop: got %v, want a DroppedError at minute 2", err)
	}
	// b0 holds the earlier collection: the new one is restored from its
	// captured creation, with the changes since the drop.
	pl, err := pitr.MakePlan(ctx, r, pitr.Params{Collection: "docs", At: capture.HybridTS(minute(5))})
	if err != nil || pl.Backup != nil || pl.Created == nil || pl.Created.TS != capture.HybridTS(minute(3)) || pl.From != capture.HybridTS(minute(2)) ||
		pl.Counts["Delete"] != 1 || len(pl.Gaps) != 0 {
		t.Errorf("after the re-creation: %v, %+v; want a plan from the creation at minute 3 replaying the delete", err, pl)
	}
	pl, err = pitr.MakePlan(ctx, r, pitr.Params{Collection: "docs", At: capture.HybridTS(minute(2)) - 1})
	if err != nil || pl.BackupID != "b0" {
		t.Errorf("just before the drop: %v, %+v", err, pl)
	}
	// A backup of the new collection is the base for times after it.
	commitBackup(t, r, 1, minute(6), minute(7), false)
	pl, err = pitr.MakePlan(ctx, r, pitr.Params{Collection: "docs", At: capture.HybridTS(minute(8))})
	if err != nil || pl.BackupID != "b1" {
		t.Errorf("after a backup of the new collection: %v, %+v", err, pl)
	}
}

func TestPlanRecreatedWithoutItsCreation(t *testing.T) {
	// a is renamed to docs at minute 4; a had been dropped at minute 2 and
	// made again without the guard: backups of a before 2 are not a base.
	rec := rename(4, "a", "docs")
	r := ddlLog(t, at(2, capture.KindDropCollection, "a"), rec)
	_, err := pitr.MakePlan(context.Background(), r, pitr.Params{Collection: "docs", At: capture.HybridTS(minute(5))})
	var nb *pitr.NoBackupError
	if !errors.As(err, &nb) || nb.Created != capture.HybridTS(minute(2)) || !strings.Contains(err.Error(), "created anew") {
		t.Errorf("got %v, want a NoBackupError saying it was created anew at minute 2", err)
	}
}
