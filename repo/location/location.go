// Package location maps a repository location, as a person writes it, to
// the store that holds it: plain paths and file:// URLs are local folders
// (package repo/local); s3://, gs://, azblob:// and mem:// URLs are
// object-storage buckets (package repo/blob). The CLI and the service both
// open repositories through Open, so they accept the same locations and
// answer the same errors.
package location

import (
	"context"
	"strings"

	"github.com/milvault/milvault/errkind"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/blob"
	"github.com/milvault/milvault/repo/local"
)

// Open returns the store at loc, without wrappers. A location that cannot
// name a store (an unknown scheme, a file:// URL without a path, a bucket
// URL with bad parameters) is an error of kind errkind.Usage.
func Open(ctx context.Context, loc string) (repo.Store, error) {
	scheme, rest, hasScheme := strings.Cut(loc, "://")
	switch {
	case !hasScheme:
		return openLocal(loc)
	case scheme == "file":
		if rest == "" {
			return nil, errkind.New(errkind.Usage, "repository URL %q has no path", loc)
		}
		return openLocal(rest)
	case blob.Supports(scheme):
		s, err := blob.Open(ctx, loc)
		if err != nil {
			return nil, errkind.Wrap(errkind.Usage, err)
		}
		return s, nil
	}
	return nil, errkind.New(errkind.Usage, "repository URL scheme %q is not supported: use a local folder, file://, s3://, gs://, azblob:// or mem://", scheme)
}

// openLocal opens a local store; a path that cannot be a repository is a
// usage error.
func openLocal(path string) (repo.Store, error) {
	s, err := local.New(path)
	if err != nil {
		return nil, errkind.Wrap(errkind.Usage, err)
	}
	return s, nil
}
