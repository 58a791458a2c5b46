package service

import (
	"context"
	"fmt"

	"github.com/milvault/milvault/errkind"
	"github.com/milvault/milvault/milvus"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/location"
	"github.com/milvault/milvault/repo/retry"
)

// openStore opens the store at a repository location (see package
// repo/location), wrapped in retries.
func openStore(ctx context.Context, loc string) (repo.Store, error) {
	s, err := location.Open(ctx, loc)
	if err != nil {
		return nil, err
	}
	return retry.Wrap(s, retry.Options{IsTransient: repo.TransientClassifier(s)}), nil
}

// openRepo opens the configured repository name. It must exist: the
// service never creates one (`milvault init` does).
func (s *Service) openRepo(ctx context.Context, name string) (*repo.Repository, error) {
	cfg := s.config()
	rc, ok := cfg.Repositories[name]
	if !ok {
		return nil, &UnknownRepositoryError{Name: name, Known: sortedKeys(cfg.Repositories)}
	}
	st, err := openStore(ctx, rc.URL)
	if err != nil {
		return nil, fmt.Errorf("repository %s: %w", name, err)
	}
	r, err := repo.Open(ctx, st)
	if err == nil && r.Encrypted() && !rc.creds.Empty() {
		err = r.Unlock(ctx, rc.creds)
	}
	if err != nil {
		return nil, fmt.Errorf("repository %s: %w", name, err)
	}
	return r, nil
}

// connect opens the configured Milvus connection name.
func (s *Service) connect(ctx context.Context, name string) (*milvus.Client, error) {
	cfg := s.config()
	mc, ok := cfg.Milvus[name]
	if !ok {
		return nil, fmt.Errorf("unknown Milvus connection %q (%s)", name, known(sortedKeys(cfg.Milvus)))
	}
	c, err := milvus.Connect(ctx, milvus.Config{Address: mc.Address, Token: mc.token, TLS: mc.tls})
	if err != nil {
		return nil, fmt.Errorf("milvus %s: %w", name, err)
	}
	return c, nil
}

// UnknownRepositoryError reports a repository name the configuration lacks.
type UnknownRepositoryError struct {
	Name  string
	Known []string
}

// Kind classifies the error.
func (e *UnknownRepositoryError) Kind() errkind.Kind { return errkind.NotFound }

func (e *UnknownRepositoryError) Error() string {
	return fmt.Sprintf("unknown repository %q (%s)", e.Name, known(e.Known))
}
