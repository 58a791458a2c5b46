package restore

import (
	"fmt"

	"github.com/milvault/milvault/errkind"
)

// Validate checks p without touching the repository or Milvus, so that
// callers can refuse bad parameters before they open or dial anything.
// Zero values are valid (they mean the defaults). Its errors are of kind
// errkind.Usage; choices that need the backup (which collections it holds)
// are checked by Run.
func (p Params) Validate() error {
	err := p.validate()
	return errkind.Wrap(errkind.Usage, err)
}

func (p Params) validate() error {
	switch p.Load {
	case "", LoadAsBackup, LoadAlways, LoadNever:
	default:
		return fmt.Errorf("load mode %q: use %s, %s or %s", p.Load, LoadAsBackup, LoadAlways, LoadNever)
	}
	switch p.AutoID {
	case "", AutoIDPreserve, AutoIDRegenerate:
	default:
		return fmt.Errorf("--auto-id %q: use %s or %s", p.AutoID, AutoIDPreserve, AutoIDRegenerate)
	}
	if p.Target != "" && p.Suffix != "" {
		return fmt.Errorf("--target and --suffix both rename: use one")
	}
	if p.Workers < 0 || p.Workers > 64 {
		return fmt.Errorf("--workers %d: use 1 to 64", p.Workers)
	}
	if p.BulkImportDir == "" {
		if p.BulkImportServerPath != "" || p.BulkImportStrict {
			return fmt.Errorf("--bulk-import-server-path and --bulk-import-strict need --bulk-import DIR")
		}
		return nil
	}
	if err := CheckBulkImportDir(p.BulkImportDir); err != nil {
		return fmt.Errorf("--bulk-import: %w", err)
	}
	return nil
}
