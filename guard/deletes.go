package guard

import (
	"context"
	"fmt"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"
)

// ConfirmHeader is the request header that lets one large delete through
// under DeleteLimit: its value must be ConfirmDelete.
const (
	ConfirmHeader = "x-milvault-confirm"
	ConfirmDelete = "delete"
)

// DeleteLimit holds back deletes that would remove a large share of a
// collection.
type DeleteLimit struct {
	// MaxShare is the largest share (0 to 1) of a collection's rows one
	// Delete may remove; zero disables the check.
	MaxShare float64
	// Policy is what happens to a larger delete: PolicyRefuse (the
	// default) or PolicyBackup (back up the collection, then delete).
	Policy Policy
}

// OpDelete is the audit operation of a large delete the guard handled.
const OpDelete = "guard.delete"

// deleteRows counts what a Delete would remove before forwarding it.
// When the guard cannot count (the collection is not loaded, the filter is
// one Milvus's query refuses), the delete is forwarded and counted in the
// uncounted metric: Milvus itself then judges it.
func (g *Guard) deleteRows(ctx context.Context, data []byte) ([]byte, bool, error) {
	lim := g.cfg.Deletes
	var req milvuspb.DeleteRequest
	if proto.Unmarshal(data, &req) != nil || confirmed(ctx) {
		return nil, true, nil
	}
	db, coll := database(ctx, req.GetDbName()), req.GetCollectionName()
	c := g.milvusFor()
	total, err := c.CountWhere(ctx, db, coll, "", "")
	if err != nil || total == 0 {
		g.cfg.Metrics.intercepted("Delete", "uncounted")
		return nil, true, nil
	}
	matched, err := c.CountWhere(ctx, db, coll, req.GetPartitionName(), req.GetExpr())
	if err != nil {
		g.cfg.Metrics.intercepted("Delete", "uncounted")
		return nil, true, nil
	}
	share := float64(matched) / float64(total)
	if share <= lim.MaxShare {
		return nil, true, nil
	}
	params := map[string]any{"expr": req.GetExpr(), "matched": matched, "total": total, "max_share": lim.MaxShare, "policy": string(lim.Policy)}
	if lim.Policy == PolicyBackup {
		id, err := g.cfg.Backup(ctx, db, coll)
		params["backup_id"] = id
		recordAudit(ctx, g.cfg.Repo, OpDelete, db, coll, principal(ctx), params, err)
		if err == nil {
			g.cfg.Metrics.intercepted("Delete", "backup")
			return nil, true, nil
		}
		return deleteFailure(fmt.Sprintf("milvault guard: the backup before deleting %d of %d rows of %s.%s failed, so nothing was deleted: %v", matched, total, db, coll, err))
	}
	recordAudit(ctx, g.cfg.Repo, OpRefuse, db, coll, principal(ctx), params, nil)
	g.cfg.Metrics.intercepted("Delete", "refuse")
	return deleteFailure(fmt.Sprintf("milvault guard refuses to delete %d of %d rows (%.0f%%) of %s.%s: more than the allowed %.0f%%; to confirm, send the request again with the header %s: %s",
		matched, total, 100*share, db, coll, 100*lim.MaxShare, ConfirmHeader, ConfirmDelete))
}

// confirmed reports whether the caller confirmed a large delete.
func confirmed(ctx context.Context) bool {
	md, _ := metadata.FromOutgoingContext(ctx)
	for _, v := range md.Get(ConfirmHeader) {
		if v == ConfirmDelete {
			return true
		}
	}
	return false
}

func deleteFailure(reason string) ([]byte, bool, error) {
	data, err := proto.Marshal(&milvuspb.MutationResult{Status: &commonpb.Status{ErrorCode: commonpb.ErrorCode_PermissionDenied, Reason: reason, Code: 65535}})
	return data, false, err
}
