package restore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/milvault/milvault/manifest"
)

// Scratch restores every collection of m under its name plus p.Suffix, as
// a throwaway copy for a drill or a deep verification; an empty Suffix
// picks "_drill_<random>". drop removes the restored collections again
// (also after a failure, and even when ctx is cancelled) and is always
// safe to call.
func Scratch(ctx context.Context, deps Deps, m *manifest.Manifest, p Params) (res *Result, drop func(), err error) {
	if p.Suffix == "" {
		b := make([]byte, 3)
		_, _ = rand.Read(b)
		p.Suffix = "_drill_" + hex.EncodeToString(b)
	}
	res, err = Run(ctx, deps, m, p)
	drop = func() {
		if res == nil {
			return
		}
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
		defer cancel()
		for _, c := range res.Collections {
			_ = deps.Milvus.DropCollection(cctx, c.Database, c.Name)
		}
	}
	return res, drop, err
}
