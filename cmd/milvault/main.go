// Command milvault backs up and restores Milvus collections. See README.md.
//
// MILVAULT_CPU_PROFILE=FILE writes a CPU profile of the whole run to FILE
// (runtime/pprof; read it with `go tool pprof`), for an operator or a
// benchmark that needs to see where a long-running command such as
// `milvault guard` spends its time. It ends when the command does,
// including on SIGINT or SIGTERM.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"github.com/milvault/milvault/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	stopProfile := startProfile(os.Getenv("MILVAULT_CPU_PROFILE"))
	code := cli.Execute(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stopProfile()
	stop()
	os.Exit(code)
}

// startProfile starts a CPU profile into path (nothing when path is
// empty) and returns what stops it. A profile that cannot start is
// reported and the command runs without it.
func startProfile(path string) func() {
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err == nil {
		err = pprof.StartCPUProfile(f)
		if err != nil {
			f.Close()
		}
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "milvault: MILVAULT_CPU_PROFILE: %v (running without a profile)\n", err)
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}
