package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/aws/smithy-go"
	"gocloud.dev/gcerrors"
	"google.golang.org/api/googleapi"

	"github.com/milvault/milvault/repo"
)

// VerifyError reports an object whose stored content differs from what Put
// streamed (a corrupted upload). Put removes such an object before it
// returns the error; uploading again can succeed, so it is transient.
type VerifyError struct {
	Name      string
	Want, Got string // what Put streamed and what the store holds
}

func (e *VerifyError) Error() string {
	return fmt.Sprintf("verify %s: the store holds %s, the upload was %s", e.Name, e.Got, e.Want)
}

// IsTransient reports whether err may go away when the operation is
// repeated: throttling, server errors, timeouts, broken connections and
// corrupted uploads. Not-found, permission, invalid-argument and
// cancellation errors are permanent. Retry wrappers use it to decide.
func IsTransient(err error) bool {
	switch {
	case err == nil, errors.Is(err, context.Canceled), errors.Is(err, repo.ErrNotFound):
		return false
	case errors.As(err, new(*VerifyError)):
		return true
	}
	switch gcerrors.Code(err) {
	case gcerrors.ResourceExhausted, gcerrors.Internal, gcerrors.DeadlineExceeded:
		return true
	case gcerrors.NotFound, gcerrors.PermissionDenied, gcerrors.InvalidArgument,
		gcerrors.FailedPrecondition, gcerrors.AlreadyExists, gcerrors.Unimplemented, gcerrors.Canceled:
		return false
	}
	return transientStatus(httpStatus(err)) || transientAPICode(err) || transientNetwork(err)
}

// IsTransient lets wrappers that look for a store's own classifier (retry)
// find IsTransient.
func (s *Store) IsTransient(err error) bool { return IsTransient(err) }

// httpStatus digs the HTTP status out of an AWS, Azure or Google error,
// or returns 0.
func httpStatus(err error) int {
	var aws interface{ HTTPStatusCode() int }
	var az *azcore.ResponseError
	var g *googleapi.Error
	switch {
	case errors.As(err, &aws):
		return aws.HTTPStatusCode()
	case errors.As(err, &az):
		return az.StatusCode
	case errors.As(err, &g):
		return g.Code
	}
	return 0
}

func transientStatus(code int) bool {
	return code == http.StatusTooManyRequests || code == http.StatusRequestTimeout || code >= 500
}

// transientAPICode recognises S3 error codes that mean "try again".
func transientAPICode(err error) bool {
	var api smithy.APIError
	if !errors.As(err, &api) {
		return false
	}
	switch api.ErrorCode() {
	case "SlowDown", "InternalError", "ServiceUnavailable", "RequestTimeout", "RequestTimeTooSkewed", "Throttling", "ThrottlingException":
		return true
	}
	return false
}

// transientNetwork recognises broken and timed-out connections.
func transientNetwork(err error) bool {
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout(),
		errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.EPIPE), errors.Is(err, context.DeadlineExceeded):
		return true
	}
	return false
}

// storeError is an error from the provider with secrets scrubbed from its
// message; errors.Is/As still see the original.
type storeError struct {
	msg string
	err error
}

func (e *storeError) Error() string { return e.msg }
func (e *storeError) Unwrap() error { return e.err }

// wrap adds "op name:" context to err, maps the provider's not-found to
// repo.ErrNotFound and scrubs secrets from the message.
func (s *Store) wrap(op, name string, err error) error {
	if err == nil {
		return nil
	}
	if gcerrors.Code(err) == gcerrors.NotFound {
		return fmt.Errorf("%s %s in %s: %w", op, name, s.Location(), repo.ErrNotFound)
	}
	msg := fmt.Sprintf("%s %s in %s: %s", op, name, s.Location(), err)
	for _, secret := range s.secrets {
		msg = strings.ReplaceAll(msg, secret, redacted)
	}
	return &storeError{msg: msg, err: err}
}
