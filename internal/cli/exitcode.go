package cli

import (
	"errors"

	"github.com/milvault/milvault/errkind"
)

// ExitOK is the exit code of success. Every failure's exit code comes from
// the errkind table (documented in docs/cli.md).
const ExitOK = 0

// usageErrorf returns an error of kind errkind.Usage: a mistake in how
// milvault was called.
func usageErrorf(format string, args ...any) error {
	return errkind.New(errkind.Usage, format, args...)
}

// conflictErrorf returns an error of kind errkind.Conflict: a refusal that
// protects existing data.
func conflictErrorf(format string, args ...any) error {
	return errkind.New(errkind.Conflict, format, args...)
}

// CodedError carries its own exit code, for commands whose result is a
// verdict (doctor's clean/warning/critical). A nil Err prints nothing.
type CodedError struct {
	Code int
	Err  error
}

func (e *CodedError) Error() string {
	if e.Err == nil {
		return ""
	}
	return e.Err.Error()
}

func (e *CodedError) Unwrap() error { return e.Err }

// ExitCode maps an error to the documented exit code.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var coded *CodedError
	if errors.As(err, &coded) {
		return coded.Code
	}
	return errkind.Of(err).ExitCode()
}

// errorJSON is the error object `--json` prints on stdout.
type errorJSON struct {
	Error struct {
		Kind     errkind.Kind `json:"kind"`
		Message  string       `json:"message"`
		ExitCode int          `json:"exit_code"`
	} `json:"error"`
}

func newErrorJSON(err error) errorJSON {
	var e errorJSON
	e.Error.Kind, e.Error.Message, e.Error.ExitCode = errkind.Of(err), err.Error(), ExitCode(err)
	return e
}
