package jobs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/milvault/milvault/errkind"
)

var bucketJobs = []byte("jobs")

// DefaultHistory is how many job records a Store keeps by default.
const DefaultHistory = 1000

// NotFoundError reports a job id the store does not know.
type NotFoundError struct{ ID string }

// Kind classifies the error.
func (e *NotFoundError) Kind() errkind.Kind { return errkind.NotFound }

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("job %s not found (it may be older than the kept history)", e.ID)
}

// Store keeps job records in a bbolt file. Ids sort by creation time, so
// the oldest records are the first keys; Put trims finished records beyond
// the history length. A Store is safe for concurrent use.
type Store struct {
	db      *bolt.DB
	history int
}

// OpenStore opens (creating it when missing) the job store at path, keeping
// at most history finished records (DefaultHistory when <= 0). It fails at
// once when another process holds the file.
func OpenStore(path string, history int) (*Store, error) {
	if history <= 0 {
		history = DefaultHistory
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return nil, fmt.Errorf("open job store %s: %w (is another milvault serve using it?)", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketJobs)
		return err
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open job store %s: %w", path, err)
	}
	return &Store{db: db, history: history}, nil
}

// Close closes the file.
func (s *Store) Close() error { return s.db.Close() }

// Put writes j, replacing the record with the same id, and drops the oldest
// finished records beyond the history length.
func (s *Store) Put(j Job) error {
	data, err := json.Marshal(j)
	if err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketJobs)
		if err := b.Put([]byte(j.ID), data); err != nil {
			return fmt.Errorf("store job %s: %w", j.ID, err)
		}
		return trim(b, s.history)
	})
}

// trim deletes the oldest final records while more than keep remain.
func trim(b *bolt.Bucket, keep int) error {
	n := 0 // Stats().KeyN does not count this transaction's puts
	c := b.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		n++
	}
	extra := n - keep
	if extra <= 0 {
		return nil
	}
	var old [][]byte
	for k, v := c.First(); k != nil && len(old) < extra; k, v = c.Next() {
		var j Job
		if json.Unmarshal(v, &j) == nil && !j.State.Final() {
			continue
		}
		old = append(old, bytes.Clone(k))
	}
	for _, k := range old {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// Get returns the record of job id, or a *NotFoundError.
func (s *Store) Get(id string) (Job, error) {
	var j Job
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketJobs).Get([]byte(id))
		if v == nil {
			return &NotFoundError{ID: id}
		}
		return json.Unmarshal(v, &j)
	})
	return j, err
}

// List returns the records, newest first, keeping those match accepts
// (all when match is nil).
func (s *Store) List(match func(Job) bool) ([]Job, error) {
	var out []Job
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketJobs).Cursor()
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			var j Job
			if err := json.Unmarshal(v, &j); err != nil {
				return fmt.Errorf("read job %s: %w", k, err)
			}
			if match == nil || match(j) {
				out = append(out, j)
			}
		}
		return nil
	})
	return out, err
}

// MarkInterrupted turns every record still queued or running (left by a
// process that died) into interrupted at now, and returns them.
func (s *Store) MarkInterrupted(now time.Time) ([]Job, error) {
	open, err := s.List(func(j Job) bool { return !j.State.Final() })
	if err != nil {
		return nil, err
	}
	for i := range open {
		open[i].Error = fmt.Sprintf("the service stopped while this job was %s", open[i].State)
		open[i].State, open[i].FinishedAt = StateInterrupted, now
		if err := s.Put(open[i]); err != nil {
			return nil, err
		}
	}
	return open, nil
}
