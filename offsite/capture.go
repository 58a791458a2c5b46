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
	Copied  int   `json:"copied_files"`
	Present int   `json:"present_files"` // already at the destination
	Bytes   int64 `json:"copied_bytes"`
}

// copyCapture carries src's capture log (milvault guard) to dst, so that a
// point-in-time restore works from the copy: the prune marks that
// changed, then the segments dst lacks, in order, each as stored and
// checked (a segment the source can read is decoded first, so a damaged
// one is never copied; every copy is read back, see
// repo.CopyCaptureFile). Segments never change once written, so one of
// the same name and size at dst is the same segment.
func copyCapture(ctx context.Context, src, dst *repo.Repository, o Options) (CaptureCopy, error) {
	var res CaptureCopy
	marks, segs, err := capture.CopyFiles(ctx, src)
	if err != nil || len(marks)+len(segs) == 0 {
		return res, err
	}
	have, err := storedSizes(ctx, dst)
	if err != nil {
		return res, err
	}
	for _, name := range marks {
		same, err := dst.SameCaptureFile(ctx, src, name)
		if err != nil || same {
			res.Present++
			if err != nil {
				return res, err
			}
			continue
		}
		if err := res.copy(ctx, src, dst, name, o); err != nil {
			return res, err
		}
	}
	for _, s := range segs {
		if size, ok := have[s.Name]; ok && size == s.Size {
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

func storedSizes(ctx context.Context, r *repo.Repository) (map[string]int64, error) {
	files, err := r.ListCaptureFiles(ctx, repo.CapturePrefix)
	if err != nil {
		return nil, err
	}
	sizes := map[string]int64{}
	for _, f := range files {
		sizes[f.Name] = f.Size
	}
	return sizes, nil
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
