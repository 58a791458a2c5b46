package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/milvault/milvault/errkind"
)

// Execute runs milvault with args and returns its exit code. A failure is
// printed on stderr and, when JSON output was asked for, also as a JSON
// error object ({"error": {"kind", "message", "exit_code"}}) on stdout, so
// that scripts never parse prose.
func Execute(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	g := &GlobalOptions{stdout: stdout, stderr: stderr, stdin: stdin}
	root := newRoot(g)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if errkind.Of(err) == errkind.Failure && err != nil && strings.HasPrefix(err.Error(), "unknown command") {
		err = errkind.Wrap(errkind.Usage, err) // cobra's own, for a mistyped command
	}
	if err == nil || err.Error() == "" {
		return ExitCode(err)
	}
	fmt.Fprintln(stderr, "milvault: "+err.Error())
	if g.JSON || wantsJSON(args) {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(newErrorJSON(err)) // the text on stderr already reports the failure
	}
	return ExitCode(err)
}

// wantsJSON finds --json in arguments cobra could not parse, and in the
// environment, for failures that happen before the flags are resolved.
func wantsJSON(args []string) bool {
	for _, a := range args {
		if a == "--" {
			break
		}
		if v, ok := strings.CutPrefix(a, "--json="); ok {
			b, _ := strconv.ParseBool(v)
			return b
		}
		if a == "--json" {
			return true
		}
	}
	b, _ := strconv.ParseBool(os.Getenv("MILVAULT_JSON"))
	return b
}
