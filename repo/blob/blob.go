// Package blob keeps repositories in object storage (Amazon S3 and any
// S3-compatible server, Google Cloud Storage, Azure Blob Storage, and an
// in-memory bucket for tests) through gocloud.dev/blob.
//
// Repository URLs:
//
//	s3://bucket/prefix?region=eu-west-1
//	s3://bucket/prefix?endpoint=http://127.0.0.1:9000&region=us-east-1&use_path_style=true
//	gs://bucket/prefix
//	azblob://container/prefix
//	mem://
//
// The path is a key prefix inside the bucket. Query parameters go to the
// gocloud driver unchanged; for s3 the useful ones are endpoint (an
// S3-compatible server), region (required by the AWS SDK; any value for most
// S3-compatible servers), use_path_style=true (bucket in the path, as MinIO
// and most S3-compatible servers need), disable_https=true, profile (a
// shared-config profile), request_checksum_calculation=when_required and
// response_checksum_validation=when_required (for servers that reject the
// SDK's default CRC checksums), ssetype and kmskeyid (server-side
// encryption). Credentials never go in the URL: S3 uses the AWS SDK's
// default chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE and
// ~/.aws, web identity, instance and container roles); GCS uses Application
// Default Credentials (GOOGLE_APPLICATION_CREDENTIALS, gcloud, metadata
// server; STORAGE_EMULATOR_HOST for an emulator); Azure uses
// AZURE_STORAGE_ACCOUNT with AZURE_STORAGE_KEY, AZURE_STORAGE_SAS_TOKEN,
// AZURE_STORAGE_CONNECTION_STRING or the default Azure identity chain.
package blob

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	gcblob "gocloud.dev/blob"
	"gocloud.dev/gcerrors"

	"github.com/milvault/milvault/repo"
)

var _ repo.Store = (*Store)(nil)

// DefaultPartSize is the size of one part of a multipart upload (S3), one
// block (Azure) or one resumable-upload chunk (GCS). A Put holds at most
// (uploadConcurrency+1) parts in memory, whatever the size of the file;
// files of up to 10,000 parts (78 GiB) can be stored in S3.
const DefaultPartSize = 8 << 20

// uploadConcurrency is how many parts of one Put are in flight at once.
const uploadConcurrency = 4

// Store is a repo.Store in a bucket (or under a prefix of one).
//
// Put streams the file as a multipart upload, which the provider makes
// visible only when it completes, so readers see the whole object or
// nothing; S3, GCS and Azure are strongly consistent, so read-after-write
// holds. Put then checks the stored object against what it streamed (see
// Put). List pages through the provider's listing and sorts by name.
type Store struct {
	repo.NoLocalFiles
	bucket   *gcblob.Bucket
	loc      location
	partSize int64
	secrets  []string // values scrubbed from error messages
}

// Open opens the bucket a repository URL names (see the package comment).
// It does not contact the provider; the first operation does.
func Open(ctx context.Context, rawURL string) (*Store, error) {
	loc, err := parseLocation(rawURL)
	if err != nil {
		return nil, err
	}
	s := &Store{loc: loc, partSize: DefaultPartSize, secrets: loc.secrets()}
	b, err := gcblob.OpenBucket(ctx, loc.driverURL())
	if err != nil {
		return nil, s.wrap("open", "bucket", err)
	}
	s.bucket = b
	return s, nil
}

// Close releases the bucket's resources.
func (s *Store) Close() error { return s.bucket.Close() }

// Location is the repository URL with secrets redacted.
func (s *Store) Location() string { return s.loc.String() }

// key is the object key of a file name.
func (s *Store) key(name string) (string, error) {
	if name == "" || strings.HasPrefix(name, "/") || strings.HasSuffix(name, "/") {
		return "", fmt.Errorf("invalid file name %q", name)
	}
	for _, seg := range strings.Split(name, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return "", fmt.Errorf("invalid file name %q", name)
		}
	}
	return s.loc.prefix + name, nil
}

// Put streams r into name and verifies what the store holds: it hashes the
// stream on the way, then compares the size and the MD5 (or S3 multipart
// ETag) the provider reports; when the provider reports neither (Azure
// block uploads, encrypted S3 objects) it reads the object back and hashes
// it. If reading r fails or ctx ends, the upload is aborted and nothing is
// stored; if verification fails, the object is deleted and the error is a
// *VerifyError.
func (s *Store) Put(ctx context.Context, name string, r io.Reader) error {
	key, err := s.key(name)
	if err != nil {
		return err
	}
	d, err := s.upload(ctx, key, r)
	if err != nil {
		return s.wrap("put", name, err)
	}
	if err := s.verify(ctx, name, key, d); err != nil {
		if derr := s.bucket.Delete(context.WithoutCancel(ctx), key); derr != nil && gcerrors.Code(derr) != gcerrors.NotFound {
			return fmt.Errorf("%w (and removing it failed: %v)", err, s.wrap("delete", name, derr))
		}
		return err
	}
	return nil
}

// upload copies r into a new object and returns the digest of what it sent.
// It hands r to the driver's own uploader (bucket.Upload) rather than
// writing through the bucket's Writer: gocloud's Azure writer dereferences a
// nil pipe when a written upload fails (it panics in Close), while its
// Upload path does not. A failed read of r cancels the upload's context
// before the driver sees the error, so no driver ever commits what it got
// so far (GCS would otherwise finish a partial object on Close); a
// cancelled upload leaves no object.
func (s *Store) upload(ctx context.Context, key string, r io.Reader) (*digest, error) {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	d := newDigest(s.partSize)
	src := &abortingReader{r: io.TeeReader(r, d), cancel: cancel}
	err := s.bucket.Upload(wctx, key, src, &gcblob.WriterOptions{
		ContentType:    "application/octet-stream",
		BufferSize:     int(s.partSize),
		MaxConcurrency: uploadConcurrency,
		BeforeWrite:    s.beforeWrite(ctx),
	})
	if src.err != nil {
		return nil, src.err // the cause; the driver reports the cancellation
	}
	if err != nil {
		return nil, explainLock(ctx, err)
	}
	return d, nil
}

// abortingReader cancels an upload's context when reading its source fails,
// and keeps that error.
type abortingReader struct {
	r      io.Reader
	cancel context.CancelFunc
	err    error
}

func (a *abortingReader) Read(p []byte) (int, error) {
	n, err := a.r.Read(p)
	if err != nil && err != io.EOF {
		a.err = err
		a.cancel()
	}
	return n, err
}

// verify checks the stored object against the digest of the upload.
func (s *Store) verify(ctx context.Context, name, key string, d *digest) error {
	attrs, err := s.bucket.Attributes(ctx, key)
	if err != nil {
		return s.wrap("verify", name, err)
	}
	if attrs.Size != d.size {
		return &VerifyError{Name: name, Want: d.String(), Got: fmt.Sprintf("%d bytes", attrs.Size)}
	}
	if d.matches(attrs.MD5, attrs.ETag) {
		return nil
	}
	return s.reread(ctx, name, key, d)
}

// reread hashes the stored object and compares it with the upload.
func (s *Store) reread(ctx context.Context, name, key string, d *digest) error {
	rc, err := s.bucket.NewReader(ctx, key, nil)
	if err != nil {
		return s.wrap("verify", name, err)
	}
	defer rc.Close()
	got := newDigest(0)
	if _, err := io.Copy(got, rc); err != nil {
		return s.wrap("verify", name, err)
	}
	if got.size != d.size || !got.matches(d.sum(), "") {
		return &VerifyError{Name: name, Want: d.String(), Got: got.String()}
	}
	return nil
}

// Open streams name.
func (s *Store) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	key, err := s.key(name)
	if err != nil {
		return nil, err
	}
	r, err := s.bucket.NewReader(ctx, key, nil)
	if err != nil {
		return nil, s.wrap("open", name, err)
	}
	return r, nil
}

// OpenRange streams length bytes of name from offset (to the end when
// length is negative) with one ranged request.
func (s *Store) OpenRange(ctx context.Context, name string, offset, length int64) (io.ReadCloser, error) {
	key, err := s.key(name)
	if err != nil {
		return nil, err
	}
	r, err := s.bucket.NewRangeReader(ctx, key, offset, length, nil)
	if err != nil {
		return nil, s.wrap("open", name, err)
	}
	return r, nil
}

// Stat describes name.
func (s *Store) Stat(ctx context.Context, name string) (repo.FileInfo, error) {
	key, err := s.key(name)
	if err != nil {
		return repo.FileInfo{}, err
	}
	a, err := s.bucket.Attributes(ctx, key)
	if err != nil {
		return repo.FileInfo{}, s.wrap("stat", name, err)
	}
	return repo.FileInfo{Name: name, Size: a.Size, ModTime: a.ModTime}, nil
}

// List returns the files whose names start with prefix, sorted by name.
// Keys ending in "/" (folder markers made by consoles) are skipped.
func (s *Store) List(ctx context.Context, prefix string) ([]repo.FileInfo, error) {
	it := s.bucket.List(&gcblob.ListOptions{Prefix: s.loc.prefix + prefix})
	var out []repo.FileInfo
	for {
		obj, err := it.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, s.wrap("list", prefix+"*", err)
		}
		if obj.IsDir || strings.HasSuffix(obj.Key, "/") {
			continue
		}
		name := strings.TrimPrefix(obj.Key, s.loc.prefix)
		out = append(out, repo.FileInfo{Name: name, Size: obj.Size, ModTime: obj.ModTime})
	}
	slices.SortFunc(out, func(a, b repo.FileInfo) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// Delete removes name; a missing name is not an error.
func (s *Store) Delete(ctx context.Context, name string) error {
	key, err := s.key(name)
	if err != nil {
		return err
	}
	if err := s.bucket.Delete(ctx, key); err != nil && gcerrors.Code(err) != gcerrors.NotFound {
		return s.wrap("delete", name, err)
	}
	return nil
}

// DeleteAll removes every file under prefix. Object stores keep no
// temporary files under a name (an unfinished multipart upload is not an
// object), so this is List and Delete; unfinished S3 uploads are left to
// the bucket's AbortIncompleteMultipartUpload lifecycle rule.
func (s *Store) DeleteAll(ctx context.Context, prefix string) error {
	files, err := s.List(ctx, prefix)
	if err != nil {
		return err
	}
	for _, f := range files {
		if err := s.Delete(ctx, f.Name); err != nil {
			return err
		}
	}
	return nil
}

// Folders returns the first path segments after prefix of the keys under
// it that lie in a folder, with a delimiter listing: one request per
// thousand folders, however many files they hold.
func (s *Store) Folders(ctx context.Context, prefix string) ([]string, error) {
	it := s.bucket.List(&gcblob.ListOptions{Prefix: s.loc.prefix + prefix, Delimiter: "/"})
	var out []string
	for {
		obj, err := it.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, s.wrap("list", prefix+"*", err)
		}
		dir := strings.TrimSuffix(strings.TrimPrefix(obj.Key, s.loc.prefix+prefix), "/")
		if obj.IsDir && dir != "" {
			out = append(out, dir)
		}
	}
	slices.Sort(out)
	return out, nil
}
