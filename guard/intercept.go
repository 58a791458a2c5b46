package guard

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"
)

// Policy is what the guard does with a drop.
type Policy string

// Policies. PolicyTrash applies to collections only; PolicyBackup too.
const (
	PolicyTrash  Policy = "trash"  // rename into the trash, restorable
	PolicyBackup Policy = "backup" // back up, then drop
	PolicyRefuse Policy = "refuse" // answer PermissionDenied
	PolicyAllow  Policy = "allow"  // forward the drop unchanged
)

func (c Config) withDefaults() Config {
	if c.Collections == "" {
		c.Collections = PolicyTrash
	}
	if c.Partitions == "" {
		c.Partitions = PolicyRefuse
	}
	if c.Databases == "" {
		c.Databases = PolicyRefuse
	}
	if c.Deletes.Policy == "" {
		c.Deletes.Policy = PolicyRefuse
	}
	return c
}

// Validate checks the policies of c (Upstream and Repo aside), so that a
// caller can refuse bad settings before it opens anything.
func (c Config) Validate() error { return c.withDefaults().validate() }

func (c Config) validate() error {
	switch c.Collections {
	case PolicyTrash, PolicyRefuse, PolicyAllow:
	case PolicyBackup:
		if c.Backup == nil {
			return fmt.Errorf("guard: collection policy %q needs a way to take backups", c.Collections)
		}
	default:
		return fmt.Errorf("guard: collection drop policy %q: want trash, backup, refuse or allow", c.Collections)
	}
	if err := c.validateDeletes(); err != nil {
		return err
	}
	return c.validateScopes()
}

// dropCollection applies the collection policy.
func (g *Guard) dropCollection(ctx context.Context, data []byte) ([]byte, bool, error) {
	var req milvuspb.DropCollectionRequest
	if err := proto.Unmarshal(data, &req); err != nil {
		return nil, true, nil // not ours to judge: Milvus answers it
	}
	db := database(ctx, req.GetDbName())
	coll := req.GetCollectionName()
	who := principal(ctx)
	switch g.cfg.Collections {
	case PolicyAllow:
		g.cfg.Metrics.intercepted("DropCollection", "allow")
		return nil, true, nil
	case PolicyRefuse:
		return g.refuse(ctx, "DropCollection", db, coll, who)
	case PolicyBackup:
		return g.backupThenDrop(ctx, db, coll, who)
	}
	return g.trash(ctx, db, coll, who)
}

// trash moves the collection into the trash. A collection Milvus does not
// know is forwarded, so that the caller gets Milvus's own answer; one the
// guard cannot look up (the caller may not list collections) is not
// dropped.
func (g *Guard) trash(ctx context.Context, db, coll, who string) ([]byte, bool, error) {
	c := g.milvusFor()
	exists, err := c.HasCollection(ctx, db, coll)
	if err != nil {
		// Never forward a drop the guard could not judge: that would
		// destroy the collection it is there to keep.
		g.cfg.Metrics.intercepted("DropCollection", "failed")
		return failure(commonpb.ErrorCode_UnexpectedError, fmt.Sprintf("milvault guard: could not check collection %s.%s, so it was not dropped: %v", db, coll, err))
	}
	if !exists || strings.HasPrefix(coll, trashNamePrefix) {
		return nil, true, nil
	}
	t := &Trash{Repo: g.cfg.Repo, Milvus: c, Now: g.cfg.Now}
	it, err := t.Move(ctx, db, coll, who)
	recordAudit(ctx, g.cfg.Repo, OpDrop, db, coll, who, map[string]any{"policy": string(PolicyTrash), "trash_name": it.Name, "aliases": it.Aliases}, err)
	if err != nil {
		g.cfg.Metrics.intercepted("DropCollection", "failed")
		return failure(commonpb.ErrorCode_UnexpectedError, fmt.Sprintf("milvault guard: could not move %s.%s to the trash, so it was not dropped: %v", db, coll, err))
	}
	noteTrash(ctx, db, coll, it.Name)
	g.cfg.Metrics.intercepted("DropCollection", "trash")
	g.logger().Info("collection moved to the trash", "database", db, "collection", coll, "trash_name", it.Name, "principal", who)
	return success()
}

// backupThenDrop takes a backup and forwards the drop only when it was
// committed.
func (g *Guard) backupThenDrop(ctx context.Context, db, coll, who string) ([]byte, bool, error) {
	id, err := g.cfg.Backup(ctx, db, coll)
	recordAudit(ctx, g.cfg.Repo, OpDrop, db, coll, who, map[string]any{"policy": string(PolicyBackup), "backup_id": id}, err)
	if err != nil {
		g.cfg.Metrics.intercepted("DropCollection", "failed")
		return failure(commonpb.ErrorCode_UnexpectedError, fmt.Sprintf("milvault guard: the backup before dropping %s.%s failed, so it was not dropped: %v", db, coll, err))
	}
	g.cfg.Metrics.intercepted("DropCollection", "backup")
	return nil, true, nil
}

// refuse answers a drop with PermissionDenied and records it.
func (g *Guard) refuse(ctx context.Context, method, db, name, who string) ([]byte, bool, error) {
	recordAudit(ctx, g.cfg.Repo, OpRefuse, db, name, who, map[string]any{"method": method}, nil)
	g.cfg.Metrics.intercepted(method, "refuse")
	return failure(commonpb.ErrorCode_PermissionDenied, fmt.Sprintf("milvault guard refuses %s of %s.%s: the guard's policy for it is %q (change it with milvault guard --%s-policy, or call Milvus directly)", method, db, name, PolicyRefuse, policyFlag(method)))
}

func policyFlag(method string) string {
	switch method {
	case "DropPartition":
		return "partition"
	case "DropDatabase":
		return "database"
	}
	return "collection"
}

func success() ([]byte, bool, error) {
	data, err := proto.Marshal(&commonpb.Status{ErrorCode: commonpb.ErrorCode_Success})
	return data, false, err
}

// failure answers a Status the way Milvus reports a failed call: a
// response, not a gRPC error, which every Milvus SDK raises with reason.
func failure(code commonpb.ErrorCode, reason string) ([]byte, bool, error) {
	data, err := proto.Marshal(&commonpb.Status{ErrorCode: code, Reason: reason, Code: 65535})
	return data, false, err
}

// database returns the database of a request: its field, else the
// "dbname" header Milvus SDKs send, else "default".
func database(ctx context.Context, field string) string {
	if field != "" {
		return field
	}
	md, _ := metadata.FromOutgoingContext(ctx)
	if v := md.Get("dbname"); len(v) > 0 && v[0] != "" {
		return v[0]
	}
	return "default"
}

// principal returns the Milvus user of a call, from its authorization
// header (base64 "user:password"), without the password; "" when there is
// none.
func principal(ctx context.Context) string {
	md, _ := metadata.FromOutgoingContext(ctx)
	v := md.Get("authorization")
	if len(v) == 0 {
		return ""
	}
	raw, err := base64.StdEncoding.DecodeString(v[0])
	if err != nil {
		return "token"
	}
	user, _, ok := strings.Cut(string(raw), ":")
	if !ok {
		return "token"
	}
	return user
}

func (c Config) validateDeletes() error {
	d := c.Deletes
	if d.MaxShare < 0 || d.MaxShare >= 1 {
		return fmt.Errorf("guard: the largest share of a collection one delete may remove is %v: give a number above 0 and below 1 (0.2 for 20%%), or 0 for no limit", d.MaxShare)
	}
	switch d.Policy {
	case PolicyRefuse:
	case PolicyBackup:
		if c.Backup == nil {
			return fmt.Errorf("guard: delete policy %q needs a way to take backups", d.Policy)
		}
	default:
		return fmt.Errorf("guard: large-delete policy %q: want refuse or backup", d.Policy)
	}
	return nil
}
