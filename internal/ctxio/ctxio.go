// Package ctxio makes plain readers respect a context.
package ctxio

import (
	"context"
	"io"
)

// Reader returns a reader that reads from r until ctx is cancelled, then
// fails with ctx's error, so that an io.Copy of a large file stops soon
// after the caller gives up.
func Reader(ctx context.Context, r io.Reader) io.Reader { return reader{ctx, r} }

type reader struct {
	ctx context.Context
	r   io.Reader
}

func (c reader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
