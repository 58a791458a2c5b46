package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net/http"
	"strings"
)

// Role is what a token may do.
type Role int

// Roles, weakest first.
const (
	RoleNone Role = iota
	// RoleRead may list and get (backups, jobs, policies, metrics).
	RoleRead
	// RoleAdmin may also start and cancel jobs.
	RoleAdmin
)

// Tokens are the accepted bearer tokens. Without any, the API is open
// (the CLI allows that only on loopback or with --insecure-no-auth).
type Tokens struct {
	Admin []string
	Read  []string
}

// Empty reports whether no token is configured.
func (t Tokens) Empty() bool { return len(t.Admin) == 0 && len(t.Read) == 0 }

// role returns the role of the request's bearer token.
func (t Tokens) role(r *http.Request) Role {
	if t.Empty() {
		return RoleAdmin
	}
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return RoleNone
	}
	return t.Role(got)
}

// Role returns what token may do: RoleNone for an unknown or empty token,
// RoleAdmin for any token when none is configured. Tokens are compared in
// constant time (over their SHA-256, so that lengths do not leak). The
// status page checks its login cookie with it.
func (t Tokens) Role(token string) Role {
	if t.Empty() {
		return RoleAdmin
	}
	if token == "" {
		return RoleNone
	}
	h := sha256.Sum256([]byte(token))
	role := RoleNone
	for _, c := range []struct {
		tokens []string
		role   Role
	}{{t.Read, RoleRead}, {t.Admin, RoleAdmin}} {
		for _, tok := range c.tokens {
			w := sha256.Sum256([]byte(tok))
			if subtle.ConstantTimeCompare(h[:], w[:]) == 1 && c.role > role {
				role = c.role
			}
		}
	}
	return role
}

// require wraps h so that it answers only requests whose token has at
// least role: 401 without a valid token, 403 with a weaker one.
func (t Tokens) require(role Role, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		switch got := t.role(r); {
		case got == RoleNone:
			w.Header().Set("WWW-Authenticate", `Bearer realm="milvault"`)
			writeError(w, http.StatusUnauthorized, "unauthorized", "a bearer token is required: send Authorization: Bearer <token>")
		case got < role:
			writeError(w, http.StatusForbidden, "forbidden", "this token is read-only: starting or cancelling jobs needs an admin token")
		default:
			h(w, r)
		}
	}
}

// Principal names the token of a request for the audit trail without
// revealing it: "admin token 1" is the first admin token of the
// configuration, "open API" a request to an API without tokens.
func (t Tokens) Principal(r *http.Request) string {
	if t.Empty() {
		return "open API"
	}
	got, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	h := sha256.Sum256([]byte(got))
	for _, c := range []struct {
		tokens []string
		kind   string
	}{{t.Admin, "admin"}, {t.Read, "read"}} {
		for i, tok := range c.tokens {
			w := sha256.Sum256([]byte(tok))
			if subtle.ConstantTimeCompare(h[:], w[:]) == 1 {
				return fmt.Sprintf("%s token %d", c.kind, i+1)
			}
		}
	}
	return "unknown token"
}
