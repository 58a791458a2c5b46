package guard

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"google.golang.org/protobuf/proto"
)

// Scope is what one backup of Config.BackupScope holds: Collections of
// Database, and of them only Partition when it is set (then Collections
// has exactly one name).
type Scope struct {
	Database    string
	Collections []string
	Partition   string
}

func (c Config) validateScopes() error {
	for what, p := range map[string]Policy{"partition": c.Partitions, "database": c.Databases} {
		switch p {
		case PolicyRefuse, PolicyAllow:
		case PolicyBackup:
			if c.BackupScope == nil {
				return fmt.Errorf("guard: %s drop policy %q needs a way to take backups", what, p)
			}
		default:
			return fmt.Errorf("guard: %s drop policy %q: want refuse, backup or allow", what, p)
		}
	}
	return nil
}

// dropPartition applies the partition policy. Under PolicyBackup the
// partition is backed up and the drop forwarded only once the backup is
// committed; a partition Milvus does not know is forwarded, so that the
// caller gets Milvus's answer.
func (g *Guard) dropPartition(ctx context.Context, data []byte) ([]byte, bool, error) {
	var req milvuspb.DropPartitionRequest
	if err := proto.Unmarshal(data, &req); err != nil || g.cfg.Partitions == PolicyAllow {
		return nil, true, nil
	}
	db, coll, part := database(ctx, req.GetDbName()), req.GetCollectionName(), req.GetPartitionName()
	who := principal(ctx)
	if g.cfg.Partitions == PolicyRefuse {
		return g.refuse(ctx, "DropPartition", db, coll+"/"+part, who)
	}
	parts, err := g.milvusFor().Partitions(ctx, db, coll)
	if err != nil {
		has, herr := g.milvusFor().HasCollection(ctx, db, coll)
		if herr == nil && !has {
			return nil, true, nil
		}
		g.cfg.Metrics.intercepted("DropPartition", "failed")
		return failure(commonpb.ErrorCode_UnexpectedError, fmt.Sprintf("milvault guard: could not check partition %s of %s.%s, so it was not dropped: %v", part, db, coll, err))
	}
	if !slices.Contains(parts, part) {
		return nil, true, nil
	}
	return g.backupThenForward(ctx, "DropPartition", Scope{Database: db, Collections: []string{coll}, Partition: part}, coll, who)
}

// dropDatabase applies the database policy. Milvus drops only an empty
// database (2.3 answers "not empty, must drop all collections"), so under
// PolicyBackup what a database drop can lose are the collections the
// guard itself keeps in its trash there: they are backed up in one backup
// and purged, then the drop is forwarded. A database that still holds
// other collections gets Milvus's own refusal, and nothing is backed up.
func (g *Guard) dropDatabase(ctx context.Context, data []byte) ([]byte, bool, error) {
	var req milvuspb.DropDatabaseRequest
	if err := proto.Unmarshal(data, &req); err != nil || g.cfg.Databases == PolicyAllow {
		return nil, true, nil
	}
	db, who := req.GetDbName(), principal(ctx)
	if g.cfg.Databases == PolicyRefuse {
		return g.refuse(ctx, "DropDatabase", db, "*", who)
	}
	colls, err := g.milvusFor().ListCollections(ctx, db)
	if err != nil {
		// An unknown database is Milvus's to answer; anything else the
		// guard cannot judge is not forwarded.
		if strings.Contains(err.Error(), "not found") || strings.Contains(err.Error(), "not exist") {
			return nil, true, nil
		}
		g.cfg.Metrics.intercepted("DropDatabase", "failed")
		return failure(commonpb.ErrorCode_UnexpectedError, fmt.Sprintf("milvault guard: could not list the collections of database %s, so it was not dropped: %v", db, err))
	}
	trashed := slices.DeleteFunc(slices.Clone(colls), func(c string) bool { return !strings.HasPrefix(c, trashNamePrefix) })
	if len(trashed) < len(colls) {
		return nil, true, nil // Milvus refuses it: nothing is lost
	}
	if len(trashed) == 0 {
		recordAudit(ctx, g.cfg.Repo, OpDrop, db, "*", who, map[string]any{"policy": string(PolicyBackup), "method": "DropDatabase", "collections": []string{}}, nil)
		g.cfg.Metrics.intercepted("DropDatabase", "backup")
		return nil, true, nil // empty: nothing to keep
	}
	resp, forward, err := g.backupThenForward(ctx, "DropDatabase", Scope{Database: db, Collections: trashed}, "*", who)
	if !forward || err != nil {
		return resp, forward, err
	}
	if err := g.purgeDatabase(ctx, db, trashed); err != nil {
		g.cfg.Metrics.intercepted("DropDatabase", "failed")
		return failure(commonpb.ErrorCode_UnexpectedError, fmt.Sprintf("milvault guard: backed up the trash of database %s but could not empty it, so the database was not dropped: %v", db, err))
	}
	return nil, true, nil
}

// purgeDatabase drops the trash collections names of db for real, with
// their trash records and a trash.purge audit entry each.
func (g *Guard) purgeDatabase(ctx context.Context, db string, names []string) error {
	t := &Trash{Repo: g.cfg.Repo, Milvus: g.milvusFor(), Now: g.cfg.Now}
	items, err := t.List(ctx)
	if err != nil {
		return err
	}
	for _, name := range names {
		it := Item{Name: name, Database: db, Collection: name}
		for _, known := range items {
			if known.Database == db && known.Name == name {
				it = known
			}
		}
		err := t.purge(ctx, it)
		t.audit(ctx, OpPurge, it, map[string]any{"trash_name": it.Name, "reason": "DropDatabase"}, err)
		if err != nil {
			return err
		}
	}
	return nil
}

// backupThenForward takes the backup of s and forwards the call only when
// it was committed; name is what the audit entry names in s.Database.
func (g *Guard) backupThenForward(ctx context.Context, method string, s Scope, name, who string) ([]byte, bool, error) {
	id, err := g.cfg.BackupScope(ctx, s)
	params := map[string]any{"policy": string(PolicyBackup), "method": method, "backup_id": id, "collections": s.Collections}
	if s.Partition != "" {
		params["partition"] = s.Partition
	}
	recordAudit(ctx, g.cfg.Repo, OpDrop, s.Database, name, who, params, err)
	if err != nil {
		g.cfg.Metrics.intercepted(method, "failed")
		return failure(commonpb.ErrorCode_UnexpectedError, fmt.Sprintf("milvault guard: the backup before %s of %s failed, so nothing was dropped: %v", method, describeScope(s), err))
	}
	g.cfg.Metrics.intercepted(method, "backup")
	g.logger().Info("backed up before a drop", "method", method, "database", s.Database, "collections", s.Collections, "partition", s.Partition, "backup_id", id, "principal", who)
	return nil, true, nil
}

func describeScope(s Scope) string {
	if s.Partition != "" {
		return fmt.Sprintf("partition %s of %s.%s", s.Partition, s.Database, s.Collections[0])
	}
	return fmt.Sprintf("database %s (%s)", s.Database, strings.Join(s.Collections, ", "))
}
