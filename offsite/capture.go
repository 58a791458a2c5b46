package offsite

import (
	"context"
	"errors"
	"fmt"

	"github.com/milvault/milvault/capture"
	"github.com/milvault/milvault/errkind"
	"github.com/milvault/milvault/repo"
)

// CaptureCopy counts the capture log files a copy carried.
type CaptureCopy struct {
	Copied int `json:"copied_files"`
	// Present counts the segments not copied because the destination
	// holds them or a newer one of the same guard.
	Present int   `json:"present_files"`
	Bytes   int64 `json:"copied_bytes"`
}

// copyCapture carries src's capture log (milvault guard) to dst, so that a
// point-in-time restore works from the copy: per guard, the segments after
// the newest one dst holds, in order, each as stored and checked (a
// segment the source can read is decoded first, so a damaged one is never
// copied; every copy is read back, see repo.CopyCaptureFile), and, for a
// guard dst has no segment of yet, the source's prune mark first. Copies
// go in order and stop at the first failure, so dst's segments of a guard
// are always a run without holes; segments dst pruned itself are not
// copied again, and its prune marks are its own.
func copyCapture(ctx context.Context, src, dst *repo.Repository, o Options) (CaptureCopy, error) {
	var res CaptureCopy
	from, err := capture.CopyFiles(ctx, src)
	if err != nil || len(from.Segments) == 0 {
		return res, err
	}
	to, err := capture.CopyFiles(ctx, dst)
	if err != nil {
		return res, err
	}
	last := to.LastSeqs()
	for guard, name := range from.Marks {
		if last[guard] > 0 {
			continue
		}
		if err := res.copy(ctx, src, dst, name, o); err != nil {
			return res, err
		}
	}
	for _, s := range from.Segments {
		if s.Seq <= last[s.Guard] {
			res.Present++
			continue
		}
		if err := checkSource(ctx, src, s.Name); err != nil {
			return res, err
		}
		if err := res.copy(ctx, src, dst, s.Name, o); err != nil {
			return res, err
		}
	}
	return res, nil
}

func (c *CaptureCopy) copy(ctx context.Context, src, dst *repo.Repository, name string, o Options) error {
	n, err := dst.CopyCaptureFile(ctx, src, name, o.SkipReadBack)
	if err != nil {
		return fmt.Errorf("copy the capture log: %w", err)
	}
	c.Copied++
	c.Bytes += n
	return nil
}

// checkSource decodes a source segment when the source can read it (an
// encrypted one opened without its key is checked by its authenticated
// encryption when it is read at the destination).
func checkSource(ctx context.Context, src *repo.Repository, name string) error {
	if !src.Unlocked() {
		return nil
	}
	err := capture.CheckSegment(ctx, src, name)
	var de *capture.DamagedError
	var ce *repo.ContentError
	if errors.As(err, &de) || errors.As(err, &ce) {
		return errkind.Wrap(errkind.Damaged, fmt.Errorf("the capture log is damaged at the source, nothing of %s was copied (milvault log shows the gap it leaves): %w", name, err))
	}
	return err
}
