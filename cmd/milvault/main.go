// Command milvault backs up and restores Milvus collections. See README.md.
package main

import (
	"context"
	"fmt"
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
	defer stop()
	err := cli.NewRootCommand(os.Stdin, os.Stdout, os.Stderr).ExecuteContext(ctx)
	if err != nil && err.Error() != "" {
		fmt.Fprintln(os.Stderr, "milvault: "+err.Error())
	}
	os.Exit(cli.ExitCode(err))
}
