package capture

import (
	"context"
	"strings"

	"github.com/klauspost/compress/zstd"

	"github.com/milvault/milvault/repo"
)

// CopyFiles lists what a copy of the log carries: every guard's prune
// mark, then every segment. Heartbeats stay behind: they are a running
// guard's own, and a copied log without them ends where the copy was
// taken (see stoppedGap).
func CopyFiles(ctx context.Context, st Store) (marks []string, segs []Segment, err error) {
	files, err := st.ListCaptureFiles(ctx, repo.CapturePrefix)
	if err != nil {
		return nil, nil, err
	}
	for _, f := range files {
		if s, ok := parseSegment(f); ok {
			segs = append(segs, s)
		} else if strings.HasSuffix(f.Name, "/"+pruneMarkName) {
			marks = append(marks, f.Name)
		}
	}
	return marks, segs, nil
}

// CheckSegment reads and decodes segment name, returning a *DamagedError
// when its bytes are not an intact segment.
func CheckSegment(ctx context.Context, st Store, name string) error {
	data, err := st.ReadCaptureFile(ctx, name)
	if err != nil {
		return err
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1))
	if err != nil {
		return err
	}
	defer dec.Close()
	_, err = decodeSegment(name, data, dec)
	return err
}
