// Command milvault backs up and restores Milvus collections. See README.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	milvuslog "github.com/milvus-io/milvus/pkg/v2/log"
	"go.uber.org/zap/zapcore"

	"github.com/milvault/milvault/internal/cli"
)

func main() {
	// The Milvus SDK logs its internal retries; milvault reports errors itself.
	milvuslog.SetLevel(zapcore.FatalLevel)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Execute(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
