package native

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/milvault/milvault/errkind"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/location"
)

// Storage is Milvus's object storage: the store rooted at Milvus's root
// path, and that root as the server itself names objects.
type Storage struct {
	Store repo.Store
	// ServerRoot is the root path as Milvus writes it in object names: the
	// minio.rootPath ("files") for object storage, the absolute
	// localStorage.path for local storage.
	ServerRoot string
}

// OpenStorage opens Milvus's storage at loc: an s3:// URL naming the
// bucket and root path (s3://a-bucket/files?endpoint=http://minio:9000;
// credentials from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), or a local
// folder (localStorage.path of a standalone Milvus on this host).
func OpenStorage(ctx context.Context, loc string) (*Storage, error) {
	if loc == "" {
		return nil, errkind.New(errkind.Usage, "no Milvus storage given: pass --milvus-storage (s3://bucket/rootPath?endpoint=... or the local storage folder)")
	}
	st, err := location.Open(ctx, loc)
	if err != nil {
		return nil, fmt.Errorf("open Milvus storage: %w", err)
	}
	root, err := serverRoot(loc)
	if err != nil {
		return nil, err
	}
	return &Storage{Store: st, ServerRoot: root}, nil
}

// serverRoot derives the root path Milvus names objects with from loc.
func serverRoot(loc string) (string, error) {
	if !strings.Contains(loc, "://") || strings.HasPrefix(loc, "file://") {
		abs, err := filepath.Abs(strings.TrimPrefix(loc, "file://"))
		if err != nil {
			return "", errkind.Wrap(errkind.Usage, err)
		}
		return abs, nil
	}
	u, err := url.Parse(loc)
	if err != nil {
		return "", errkind.New(errkind.Usage, "Milvus storage URL is not a valid URL")
	}
	return strings.Trim(u.Path, "/"), nil
}

// serverPath names key (relative to the store) as the server sees it.
func (s *Storage) serverPath(key string) string {
	if s.ServerRoot == "" {
		return key
	}
	return s.ServerRoot + "/" + key
}

// Folders names the folders directly under prefix in Milvus's storage
// (collection ids under insert_log/, for example).
func (s *Storage) Folders(ctx context.Context, prefix string) ([]string, error) {
	if fl, ok := s.Store.(repo.FolderLister); ok {
		return fl.Folders(ctx, prefix)
	}
	files, err := s.Store.List(ctx, prefix)
	if err != nil {
		return nil, err
	}
	return repo.FoldersOf(files, prefix), nil
}
