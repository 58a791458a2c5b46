package backup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/milvault/milvault/errkind"
	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/repo"
)

// A backup records its progress in a journal (repo.Repository.WriteJournal)
// after every data file it stores: the manifest with the collections
// finished so far, and for the collection in progress its finished
// partitions, the partition being read, that partition's stored files and
// the last primary key of the last one. Keys are read in ascending order,
// so everything up to that key is stored; a resumed backup checks the
// stored files and restarts the scan after it (milvus.ScanRequest.After).

// journal is what a backup records after every stored data file.
type journal struct {
	Manifest *manifest.Manifest `json:"manifest"`
	Current  *partialCollection `json:"current,omitempty"`
}

// partialCollection is the collection a backup was writing.
type partialCollection struct {
	Database   string               `json:"database"`
	Collection string               `json:"collection"`
	Done       []manifest.Partition `json:"done,omitempty"`      // finished partitions
	Partition  string               `json:"partition,omitempty"` // partition in progress
	Files      []manifest.File      `json:"files,omitempty"`     // its stored files
	LastKey    *journalKey          `json:"last_key,omitempty"`  // last key of the last file
}

// journalKey is a primary key in a journal: exactly one field is set.
type journalKey struct {
	Int *int64  `json:"int,omitempty"`
	Str *string `json:"str,omitempty"`
}

func newJournalKey(k any) *journalKey {
	switch v := k.(type) {
	case int64:
		return &journalKey{Int: &v}
	case string:
		return &journalKey{Str: &v}
	}
	return nil
}

func (k *journalKey) value() any {
	switch {
	case k == nil:
		return nil
	case k.Int != nil:
		return *k.Int
	case k.Str != nil:
		return *k.Str
	}
	return nil
}

// journaler writes a backup's journal.
type journaler struct {
	r *repo.Repository
	j journal
}

func (jr *journaler) save(ctx context.Context) error {
	if jr == nil {
		return nil
	}
	data, err := json.Marshal(jr.j)
	if err != nil {
		return err
	}
	return jr.r.WriteJournal(ctx, jr.j.Manifest.ID, data)
}

// startCollection records that collection db.name is being written.
func (jr *journaler) startCollection(db, name string) {
	if jr != nil && (jr.j.Current == nil || jr.j.Current.Database != db || jr.j.Current.Collection != name) {
		jr.j.Current = &partialCollection{Database: db, Collection: name}
	}
}

// partitionDone records a finished partition.
func (jr *journaler) partitionDone(ctx context.Context, p manifest.Partition) error {
	if jr == nil {
		return nil
	}
	c := jr.j.Current
	c.Done = append(c.Done, p)
	c.Partition, c.Files, c.LastKey = "", nil, nil
	return jr.save(ctx)
}

// fileStored records the stored files of partition part and the last key
// of the last one.
func (jr *journaler) fileStored(ctx context.Context, part string, files []manifest.File, lastKey any) error {
	if jr == nil {
		return nil
	}
	c := jr.j.Current
	c.Partition, c.Files, c.LastKey = part, slices.Clone(files), newJournalKey(lastKey)
	return jr.save(ctx)
}

// collectionDone records a finished collection (already in the manifest).
func (jr *journaler) collectionDone(ctx context.Context) error {
	if jr == nil {
		return nil
	}
	jr.j.Current = nil
	return jr.save(ctx)
}

// resumeState is what a resumed backup starts from.
type resumeState struct {
	journal
}

// partial returns the progress recorded for collection db.name, nil when
// it was not started.
func (s *resumeState) partial(db, name string) *partialCollection {
	if s == nil || s.Current == nil || s.Current.Database != db || s.Current.Collection != name {
		return nil
	}
	return s.Current
}

// done returns partition part as an interrupted backup finished it.
func (c *partialCollection) done(part string) (manifest.Partition, bool) {
	if c == nil {
		return manifest.Partition{}, false
	}
	for _, p := range c.Done {
		if p.Name == part {
			return p, true
		}
	}
	return manifest.Partition{}, false
}

// inProgress returns c when part is the partition it was reading.
func (c *partialCollection) inProgress(part string) *partialCollection {
	if c == nil || c.Partition != part || c.LastKey == nil {
		return nil
	}
	return c
}

// finished reports whether collection db.name was finished.
func (s *resumeState) finished(db, name string) (manifest.Collection, bool) {
	if s == nil {
		return manifest.Collection{}, false
	}
	for _, c := range s.Manifest.Collections {
		if c.Database == db && c.Name == name {
			return c, true
		}
	}
	return manifest.Collection{}, false
}

// NothingToResumeError reports a --resume with no interrupted backup.
type NothingToResumeError struct{ Location string }

func (e *NothingToResumeError) Error() string {
	return fmt.Sprintf("no interrupted backup to resume in %s (a backup interrupted before it stored its first data file starts over: run backup without --resume)", e.Location)
}

// Kind reports errkind.NotFound.
func (*NothingToResumeError) Kind() errkind.Kind { return errkind.NotFound }

// loadResume finds the newest interrupted backup with a journal, checks
// that it selected what p selects, and reads back every data file it
// stored, checking its checksum.
func loadResume(ctx context.Context, r *repo.Repository, p Params) (*resumeState, error) {
	ids, err := r.Resumable(ctx)
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, &NothingToResumeError{Location: r.Location()}
	}
	id := ids[len(ids)-1]
	if p.ResumeID != "" {
		if !slices.Contains(ids, p.ResumeID) {
			return nil, &NothingToResumeError{Location: r.Location()}
		}
		id = p.ResumeID
	}
	data, err := r.ReadJournal(ctx, id)
	if err != nil {
		return nil, err
	}
	var s resumeState
	if err := json.Unmarshal(data, &s.journal); err != nil || s.Manifest == nil || s.Manifest.ID != id {
		return nil, errkind.New(errkind.Damaged, "the progress record of interrupted backup %s cannot be read (%v): run backup without --resume", id, err)
	}
	if err := sameSelection(s.Manifest, p); err != nil {
		return nil, err
	}
	for _, f := range s.storedFiles() {
		if err := r.ReadFile(ctx, f, io.Discard); err != nil {
			return nil, fmt.Errorf("cannot resume backup %s: its stored file %s does not check (%w); run backup without --resume", id, f.Path, err)
		}
	}
	return &s, nil
}

// storedFiles lists every data file the journal names.
func (s *resumeState) storedFiles() []manifest.File {
	files := s.Manifest.Files()
	if c := s.Current; c != nil {
		for _, p := range c.Done {
			files = append(files, p.Files...)
		}
		files = append(files, c.Files...)
	}
	return files
}

// sameSelection fails unless m (an interrupted backup) selected what p
// selects, and with the same options.
func sameSelection(m *manifest.Manifest, p Params) error {
	want := manifest.Selection{AllDatabases: p.AllDatabases, Databases: []string{p.Database}, Collections: p.Collections, Partitions: p.Partitions}
	if p.AllDatabases {
		want.Databases = nil
	}
	got := m.Selection
	same := got.AllDatabases == want.AllDatabases && slices.Equal(got.Databases, want.Databases) &&
		slices.Equal(got.Collections, want.Collections) && slices.Equal(got.Partitions, want.Partitions) &&
		m.Name == p.Name && m.Options.Compression == p.Compression && m.Options.Checksum == string(p.Checksum)
	if !same {
		return errkind.New(errkind.Usage, "the interrupted backup %s selected databases %v, collections %v, partitions %v (name %q, %s, %s): run backup --resume with the same selection and options, or without --resume to start over",
			m.ID, got.Databases, got.Collections, got.Partitions, m.Name, m.Options.Compression, m.Options.Checksum)
	}
	return nil
}

// resumable reports whether a backup that failed with err should keep what
// it stored for a --resume: when Milvus (or the network to it) went away,
// as when the server restarts, rather than when the request was wrong.
func resumable(err error) bool {
	if errkind.Of(err) == errkind.Unreachable {
		return true
	}
	var se interface{ GRPCStatus() *status.Status }
	if errors.As(err, &se) {
		switch se.GRPCStatus().Code() {
		case codes.Unavailable, codes.DeadlineExceeded, codes.Aborted:
			return true
		}
	}
	return false
}

// InterruptedError reports a backup that stopped because Milvus went away
// and kept what it had stored, so that backup --resume finishes it.
type InterruptedError struct {
	ID    string
	Files int
	Err   error
}

func (e *InterruptedError) Error() string {
	return fmt.Sprintf("%v; backup %s kept its %d stored data files: run `milvault backup --resume` with the same selection once Milvus is back, to finish it", e.Err, e.ID, e.Files)
}

func (e *InterruptedError) Unwrap() error { return e.Err }

// Kind reports errkind.Unreachable: Milvus went away.
func (*InterruptedError) Kind() errkind.Kind { return errkind.Unreachable }
