package web

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"time"

	"github.com/milvault/milvault/service/api"
)

// cookieName is the cookie that holds the API token of a logged-in
// browser: HttpOnly (no script reads it), SameSite=Strict (no other site's
// page sends it), Secure over HTTPS.
const cookieName = "milvault_token"

// sessionLife is how long a login lasts.
const sessionLife = 12 * time.Hour

// viewer is who looks at the page.
type viewer struct {
	Role  api.Role
	Open  bool   // no tokens are configured: nobody logs in
	CSRF  string // the token the page's forms carry
	Admin bool
}

type viewerKey struct{}

func viewerOf(r *http.Request) viewer {
	v, _ := r.Context().Value(viewerKey{}).(viewer)
	return v
}

// csrfKey signs CSRF tokens; it is new in every process, so a restart
// invalidates open forms (not logins).
type csrfKey []byte

func newCSRFKey() (csrfKey, error) {
	k := make([]byte, 32)
	_, err := rand.Read(k)
	return k, err
}

// token is the CSRF token of the session holding secret (the API token,
// or "" on an open page): an HMAC, so it reveals nothing of the secret and
// a page of another site cannot compute it.
func (k csrfKey) token(secret string) string {
	m := hmac.New(sha256.New, k)
	m.Write([]byte("milvault csrf\x00" + secret))
	return hex.EncodeToString(m.Sum(nil))
}

func (k csrfKey) valid(secret, got string) bool {
	return hmac.Equal([]byte(k.token(secret)), []byte(got))
}

func sessionToken(r *http.Request) string {
	c, err := r.Cookie(cookieName)
	if err != nil {
		return ""
	}
	return c.Value
}

// session wraps h so that it answers only a browser whose cookie holds a
// token of at least role: others get the login form (401), or 403 for a
// read-only token on an admin action.
func (s *server) session(role api.Role, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok := sessionToken(r)
		got := s.o.Tokens.Role(tok)
		if got == api.RoleNone {
			s.renderLogin(w, http.StatusUnauthorized, "")
			return
		}
		if got < role {
			s.renderError(w, http.StatusForbidden, "This needs an admin token: you are logged in with a read-only one.")
			return
		}
		v := viewer{Role: got, Open: s.o.Tokens.Empty(), CSRF: s.csrf.token(tok), Admin: got >= api.RoleAdmin}
		h(w, r.WithContext(context.WithValue(r.Context(), viewerKey{}, v)))
	}
}

// checkCSRF wraps a form handler: the form's csrf field must match the
// session, and a browser-sent Origin must be this server.
func (s *server) checkCSRF(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if o := r.Header.Get("Origin"); o != "" {
			if u, err := url.Parse(o); err != nil || u.Host != r.Host {
				s.renderError(w, http.StatusForbidden, "This form was sent from another site; it was refused.")
				return
			}
		}
		if !s.csrf.valid(sessionToken(r), r.PostFormValue("csrf")) {
			s.renderError(w, http.StatusForbidden, "This form has expired (the service restarted, or you logged in again): reload the page and try again.")
			return
		}
		h(w, r)
	}
}

func (s *server) loginForm(w http.ResponseWriter, r *http.Request) {
	if s.o.Tokens.Empty() || s.o.Tokens.Role(sessionToken(r)) != api.RoleNone {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	s.renderLogin(w, http.StatusOK, "")
}

// login checks the posted token and keeps it in the session cookie.
func (s *server) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	tok := r.PostFormValue("token")
	if s.o.Tokens.Empty() {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	if s.o.Tokens.Role(tok) == api.RoleNone {
		s.o.Logger.Warn("status page login refused", "remote", r.RemoteAddr)
		s.renderLogin(w, http.StatusUnauthorized, "That token is not an admin or read-only token of this service.")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: tok, Path: "/", HttpOnly: true, Secure: r.TLS != nil,
		SameSite: http.SameSiteStrictMode, MaxAge: int(sessionLife.Seconds())})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (s *server) logout(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/", HttpOnly: true, Secure: r.TLS != nil,
		SameSite: http.SameSiteStrictMode, MaxAge: -1})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}
