package verify

import (
	"context"
	"errors"

	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/native"
	"github.com/milvault/milvault/restore"
)

// Quick and deep verifications of a native backup first check every
// segment file (as --mode checksum), then read its rows from a logical copy
// decoded from the segment files (native.LogicalCopy, deletes applied):
// quick compares a sample of them with the source; deep restores the
// backup by binlog import (native.Loader, through Deps.Storage) into
// scratch collections and compares every row with the decoded copy.

// checkNativeTarget refuses, before anything is locked or recorded, a
// deep verification of a native backup that the target cannot import.
func checkNativeTarget(ctx context.Context, d Deps, m *manifest.Manifest, o Options) error {
	if !m.IsNative() || o.Mode != ModeDeep {
		return nil
	}
	if d.Milvus == nil {
		return errors.New("deep verification needs a Milvus server to restore into")
	}
	l := &native.Loader{Milvus: d.Milvus, Storage: d.Storage, Repo: d.Repo}
	return l.CheckTarget(ctx)
}

// runNative verifies native backup m in mode quick or deep.
func runNative(ctx context.Context, d Deps, m *manifest.Manifest, o Options) (*Report, error) {
	start := d.Now()
	sums, err := checksumReport(ctx, d, m)
	if err != nil || !sums.OK {
		if sums != nil {
			sums.Mode = o.Mode
		}
		return sums, err
	}
	var res *restore.Result
	if o.Mode == ModeDeep {
		var drop func()
		res, drop, err = restoreNative(ctx, d, m, o)
		defer drop()
		if err != nil {
			return nil, err
		}
	}
	d.Progress.Note("decoding the segment files of " + m.ID + " to compare rows")
	cr, cm, remove, err := native.LogicalCopy(ctx, d.Repo, m, "", d.Progress)
	defer remove()
	if err != nil {
		return nil, err
	}
	rep, err := compareDecoded(ctx, Deps{Repo: cr, Milvus: d.Milvus, Progress: d.Progress, Now: d.Now}, m, cm, res, o)
	if err != nil {
		return nil, err
	}
	rep.BackupID, rep.Files = m.ID, sums.Files
	rep.Duration = d.Now().Sub(start)
	return rep, nil
}

// restoreNative restores m by binlog import into scratch collections; its
// files were checked just before.
func restoreNative(ctx context.Context, d Deps, m *manifest.Manifest, o Options) (*restore.Result, func(), error) {
	l := &native.Loader{Milvus: d.Milvus, Storage: d.Storage, Repo: d.Repo, Progress: d.Progress, SkipVerify: true}
	return restore.Scratch(ctx, restore.Deps{Milvus: d.Milvus, Repo: d.Repo, Progress: d.Progress, Now: d.Now, Lock: d.Lock, Native: l}, m,
		restore.Params{Suffix: o.Suffix, Load: restore.LoadAlways, Workers: o.Workers})
}

// compareDecoded runs the quick checks on the decoded copy cm (d.Repo is
// its repository), or compares the restored collections res with it.
func compareDecoded(ctx context.Context, d Deps, m, cm *manifest.Manifest, res *restore.Result, o Options) (*Report, error) {
	if o.Mode == ModeQuick {
		return quick(ctx, d, cm, o)
	}
	rep := &Report{Mode: ModeDeep, Rows: cm.TotalRows()}
	if err := compareAll(ctx, d, cm, res, rep); err != nil {
		return nil, err
	}
	rep.OK = allMatch(rep.Collections)
	return rep, nil
}
