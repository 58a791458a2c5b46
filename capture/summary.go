package capture

import (
	"context"
	"sort"
)

// Summary describes the whole log, as `milvault log` shows it.
type Summary struct {
	Segments    []SegmentSummary    `json:"segments"`
	Collections []CollectionSummary `json:"collections"`
	Gaps        []Gap               `json:"gaps"`
	Records     int64               `json:"records"`
	Bytes       int64               `json:"bytes"`
	// Changes are the schema and namespace changes (DDL), in timestamp
	// order.
	Changes []Change `json:"changes,omitempty"`
}

// SegmentSummary is one readable segment with what it holds (for the
// filtered collection, when there is one); unreadable segments are gaps.
type SegmentSummary struct {
	Segment
	LastTS  uint64 `json:"last_ts"`
	Records int    `json:"records"`
}

// Change is one captured schema or namespace change.
type Change struct {
	TS         uint64 `json:"ts"`
	Method     string `json:"method"`
	Database   string `json:"database"`
	Collection string `json:"collection,omitempty"`
	Detail     string `json:"detail,omitempty"` // e.g. "to db.newname"
}

// CollectionSummary counts one collection's writes.
type CollectionSummary struct {
	Database   string           `json:"database"`
	Collection string           `json:"collection"`
	FirstTS    uint64           `json:"first_ts"`
	LastTS     uint64           `json:"last_ts"`
	Writes     map[string]int64 `json:"writes"` // by method
	Bytes      int64            `json:"bytes"`  // request bytes
}

// Summarize reads the whole log and describes it; q filters the
// collections (its time range is ignored).
func Summarize(ctx context.Context, st Store, q Query) (*Summary, error) {
	s := &summarizer{q: q, sum: &Summary{}, colls: map[[2]string]*CollectionSummary{}}
	gaps, err := walk(ctx, st, q, func(Gap) bool { return true }, s)
	if err != nil {
		return nil, err
	}
	s.sum.Gaps = gaps
	for _, c := range s.colls {
		s.sum.Collections = append(s.sum.Collections, *c)
	}
	sort.Slice(s.sum.Collections, func(i, j int) bool {
		a, b := s.sum.Collections[i], s.sum.Collections[j]
		return a.Database+"\x00"+a.Collection < b.Database+"\x00"+b.Collection
	})
	sort.SliceStable(s.sum.Gaps, func(i, j int) bool { return s.sum.Gaps[i].From < s.sum.Gaps[j].From })
	sort.SliceStable(s.sum.Changes, func(i, j int) bool { return s.sum.Changes[i].TS < s.sum.Changes[j].TS })
	return s.sum, nil
}

type summarizer struct {
	q     Query
	sum   *Summary
	colls map[[2]string]*CollectionSummary
}

func (s *summarizer) segment(seg Segment, recs []Record) {
	ss := SegmentSummary{Segment: seg}
	for _, r := range recs {
		ss.LastTS = max(ss.LastTS, r.TS)
		matches := s.q.matches(r)
		if r.Kind.IsDDL() && (matches || s.renamedInto(r)) {
			s.sum.Changes = append(s.sum.Changes, Change{TS: r.TS, Method: r.Kind.String(), Database: r.Database, Collection: r.Collection, Detail: r.Detail()})
		}
		if !r.Kind.IsWrite() || !matches {
			continue
		}
		ss.Records++
		s.count(r)
	}
	s.sum.Segments = append(s.sum.Segments, ss)
	s.sum.Records += int64(ss.Records)
	s.sum.Bytes += seg.Size
}

// renamedInto reports whether r renamed a collection to the filtered one.
func (s *summarizer) renamedInto(r Record) bool {
	db, name, ok := r.RenamedTo()
	return ok && s.q.Collection != "" && name == s.q.Collection && (s.q.Database == "" || db == s.q.Database)
}

func (s *summarizer) count(r Record) {
	k := [2]string{r.Database, r.Collection}
	c := s.colls[k]
	if c == nil {
		c = &CollectionSummary{Database: r.Database, Collection: r.Collection, FirstTS: r.TS, Writes: map[string]int64{}}
		s.colls[k] = c
	}
	c.FirstTS, c.LastTS = min(c.FirstTS, r.TS), max(c.LastTS, r.TS)
	c.Writes[r.Kind.String()]++
	c.Bytes += int64(len(r.Request))
}
