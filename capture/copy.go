package capture

import (
	"context"
	"strings"

	"github.com/klauspost/compress/zstd"

	"github.com/milvault/milvault/repo"
)

// LogFiles are the files of the log a copy carries. Heartbeats stay
// behind: they are a running guard's own, and a copied log without them
// ends where the copy was taken (see stoppedGap).
type LogFiles struct {
	// Marks maps a guard id to the name of its prune mark.
	Marks map[string]string
	// Segments are in ListSegments order (by guard and number).
	Segments []Segment
}

// LastSeqs returns the highest segment number of each guard.
func (lf *LogFiles) LastSeqs() map[string]uint64 {
	last := map[string]uint64{}
	for _, s := range lf.Segments {
		last[s.Guard] = max(last[s.Guard], s.Seq)
	}
	return last
}

// CopyFiles lists the prune marks and segments of the log in st.
func CopyFiles(ctx context.Context, st Store) (*LogFiles, error) {
	segs, err := ListSegments(ctx, st)
	if err != nil {
		return nil, err
	}
	files, err := st.ListCaptureFiles(ctx, repo.CapturePrefix)
	if err != nil {
		return nil, err
	}
	lf := &LogFiles{Marks: map[string]string{}, Segments: segs}
	for _, f := range files {
		rest := strings.TrimPrefix(f.Name, repo.CapturePrefix)
		if guard, ok := strings.CutSuffix(rest, "/"+pruneMarkName); ok && ValidGuardID(guard) == nil {
			lf.Marks[guard] = f.Name
		}
	}
	return lf, nil
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
