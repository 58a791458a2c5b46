// Package errkind classifies errors by what a caller can do about them (fix
// the call, create the repository, retry later, repair the data, ...), and
// maps each kind in one table to the command line's exit code and to the
// HTTP status a service would answer with.
//
// Library packages give their error types a Kind method; Of finds the first
// error in a chain that has one. Nothing here imports a library package, so
// every package can use errkind without an import cycle.
package errkind

import (
	"context"
	"errors"
	"fmt"
	"net/http"
)

// Kind is a class of failure.
type Kind int

// The kinds of failure. Failure is the zero value: an error nobody
// classified.
const (
	Failure       Kind = iota // anything not classified below
	Usage                     // bad flags, arguments, configuration or parameters
	NotFound                  // backup, database, collection or partition not found
	NotRepository             // the location holds no milvault repository (run init)
	Unreachable               // Milvus or the storage could not be reached, or refused the credentials
	Damaged                   // stored data failed a checksum or could not be decoded
	Conflict                  // the target exists or a name is taken; a confirmation is missing
	Locked                    // another operation holds the repository lock
	NoSpace                   // not enough space in the repository
	CheckFailed               // a drill failed a check or exceeded its time limit
	Interrupted               // the operation was cancelled
	Key                       // an encrypted repository needs a key that was not given or does not match
)

// outcome is one row of the table.
type outcome struct {
	name string
	exit int
	http int
}

// outcomes is the one table from kinds to outcomes (docs/cli.md documents
// the exit codes). Not found and not a repository share exit code 3: both
// mean "what you named is not there".
var outcomes = map[Kind]outcome{
	Failure:       {"failure", 1, http.StatusInternalServerError},
	Usage:         {"usage", 2, http.StatusBadRequest},
	NotFound:      {"not_found", 3, http.StatusNotFound},
	NotRepository: {"not_repository", 3, http.StatusNotFound},
	Unreachable:   {"unreachable", 4, http.StatusBadGateway},
	Damaged:       {"damaged", 5, http.StatusUnprocessableEntity},
	Conflict:      {"conflict", 6, http.StatusConflict},
	Locked:        {"locked", 6, http.StatusLocked},
	NoSpace:       {"no_space", 7, http.StatusInsufficientStorage},
	CheckFailed:   {"check_failed", 8, http.StatusUnprocessableEntity},
	// 499 is nginx's "client closed request": the caller gave up.
	Interrupted: {"interrupted", 130, 499},
	Key:         {"key", 9, http.StatusForbidden},
}

// String returns the kind's stable name, as used in JSON error objects.
func (k Kind) String() string { return k.outcome().name }

// ExitCode returns the command line's exit code for the kind.
func (k Kind) ExitCode() int { return k.outcome().exit }

// HTTPStatus returns the HTTP status a service answers with for the kind.
func (k Kind) HTTPStatus() int { return k.outcome().http }

// MarshalText writes the kind's name, so JSON shows "usage", not 1.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText reads a kind's name, for clients of the JSON error object.
func (k *Kind) UnmarshalText(b []byte) error {
	for kind, o := range outcomes {
		if o.name == string(b) {
			*k = kind
			return nil
		}
	}
	return fmt.Errorf("unknown error kind %q", b)
}

func (k Kind) outcome() outcome {
	if o, ok := outcomes[k]; ok {
		return o
	}
	return outcomes[Failure]
}

// Kinds returns every kind, in table order, for documentation and tests.
func Kinds() []Kind {
	return []Kind{Failure, Usage, NotFound, NotRepository, Unreachable, Damaged, Conflict, Locked, NoSpace, CheckFailed, Interrupted, Key}
}

// kinded is implemented by error types that know their kind.
type kinded interface{ Kind() Kind }

// Of returns the kind of err: the kind of the outermost error in its chain
// that has a Kind method, Interrupted for a cancelled context, Failure
// otherwise. Of(nil) is Failure; callers check for nil first.
func Of(err error) Kind {
	var k kinded
	if errors.As(err, &k) {
		return k.Kind()
	}
	if errors.Is(err, context.Canceled) {
		return Interrupted
	}
	return Failure
}

// Error is an error with an explicit kind, for failures that have no type of
// their own.
type Error struct {
	K   Kind
	Err error
}

// New returns an error of kind k with a formatted message; %w wraps as in
// fmt.Errorf.
func New(k Kind, format string, args ...any) error {
	return &Error{K: k, Err: fmt.Errorf(format, args...)}
}

// Wrap gives err the kind k; Wrap(k, nil) is nil.
func Wrap(k Kind, err error) error {
	if err == nil {
		return nil
	}
	return &Error{K: k, Err: err}
}

func (e *Error) Error() string { return e.Err.Error() }

// Unwrap returns the wrapped error.
func (e *Error) Unwrap() error { return e.Err }

// Kind returns the error's kind.
func (e *Error) Kind() Kind { return e.K }
