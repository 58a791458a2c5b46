package milvus

import (
	"context"
	"fmt"
	"path"
	"regexp"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/milvault/milvault/errkind"
)

// PermissionError reports a call Milvus refused because the user lacks a
// privilege (authorization on, common.security.authorizationEnabled).
type PermissionError struct {
	// Call is the refused RPC, e.g. Query.
	Call string
	// Privilege is the privilege the server named, e.g. Query or
	// SelectOwnership ("" when it named none).
	Privilege string
	// User is the user the server named.
	User string
	// Message is the server's own message.
	Message string
}

func (e *PermissionError) Error() string {
	if e.Privilege == "" {
		return fmt.Sprintf("Milvus refused %s: %s (grant the user the privilege it needs; docs/security.md lists them per command)", e.Call, e.Message)
	}
	return fmt.Sprintf("Milvus refused %s: user %s lacks the privilege %s (grant %s to one of its roles; docs/security.md lists what each command needs)",
		e.Call, orUnknown(e.User), e.Privilege, e.Privilege)
}

// Kind classifies the error like refused credentials: the operator fixes
// the user's rights.
func (e *PermissionError) Kind() errkind.Kind { return errkind.Unreachable }

// GRPCStatus keeps the PermissionDenied code for callers that test it.
func (e *PermissionError) GRPCStatus() *status.Status {
	return status.New(codes.PermissionDenied, e.Error())
}

func orUnknown(s string) string {
	if s == "" {
		return "(unknown)"
	}
	return s
}

// deniedMessage matches Milvus's "PrivilegeQuery: permission deny to alice".
var deniedMessage = regexp.MustCompile(`Privilege(\w+): permission deny(?: to (\S+))?`)

// explainDenied turns PermissionDenied answers into *PermissionError.
func explainDenied(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	err := invoker(ctx, method, req, reply, cc, opts...)
	st, ok := status.FromError(err)
	if err == nil || !ok || st.Code() != codes.PermissionDenied {
		return err
	}
	e := &PermissionError{Call: path.Base(method), Message: st.Message()}
	if m := deniedMessage.FindStringSubmatch(st.Message()); m != nil {
		e.Privilege, e.User = m[1], m[2]
	}
	return e
}
