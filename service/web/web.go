// Package web is the status page of `milvault serve`: server-rendered HTML
// (html/template, assets embedded with embed, no front-end build step) that
// works without JavaScript. It shows the policies with their last success,
// next run and RPO state, the recent jobs with live progress, the backups
// of every repository with when each was last proven, and inline SVG charts
// (drawn on the server) of backup size, backup duration and drill RTO per
// policy. An admin can cancel a running job after a confirmation step.
//
// The page reads everything through the same service functions as the
// HTTP API (Service.Policies, Service.History, Service.ListBackups,
// Service.Jobs) and accepts the API's tokens: a login form sets an
// HttpOnly, SameSite=Strict cookie holding the token (a token never goes in
// a URL), and every form that changes something carries a CSRF token
// derived from the session.
//
// Its browser test drives a real headless Chromium with
// github.com/chromedp/chromedp (a maintained DevTools-protocol client; a test
// dependency only, the page itself uses nothing beyond the standard library).
package web

import (
	"embed"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/milvault/milvault/service"
	"github.com/milvault/milvault/service/api"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Options configure the page.
type Options struct {
	Tokens api.Tokens   // the API's tokens; none means an open page (as the API)
	API    http.Handler // the API handler (api.Handler), served under /api/, /healthz, /readyz and /metrics
	Logger *slog.Logger // nil means discard
	Now    func() time.Time
}

type server struct {
	svc   *service.Service
	o     Options
	pages *pages
	csrf  csrfKey
}

// Handler returns the HTTP handler of `milvault serve`: the status page at
// / and the API o.API at its own paths.
func Handler(svc *service.Service, o Options) (http.Handler, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	p, err := parsePages()
	if err != nil {
		return nil, err
	}
	key, err := newCSRFKey()
	if err != nil {
		return nil, err
	}
	s := &server{svc: svc, o: o, pages: p, csrf: key}
	mux := http.NewServeMux()
	if o.API != nil {
		for _, path := range []string{"/api/", "/healthz", "/readyz", "/metrics"} {
			mux.Handle(path, o.API)
		}
	}
	static, _ := fs.Sub(staticFS, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /{$}", s.session(api.RoleRead, s.status))
	mux.HandleFunc("GET /fragments/jobs", s.session(api.RoleRead, s.jobsFragment))
	mux.HandleFunc("GET /jobs/{id}/cancel", s.session(api.RoleAdmin, s.confirmCancel))
	mux.HandleFunc("POST /jobs/{id}/cancel", s.session(api.RoleAdmin, s.checkCSRF(s.cancel)))
	mux.HandleFunc("GET /login", s.loginForm)
	mux.HandleFunc("POST /login", s.login)
	mux.HandleFunc("POST /logout", s.session(api.RoleRead, s.checkCSRF(s.logout)))
	return secureHeaders(mux), nil
}

// secureHeaders sets the headers every answer gets: scripts, styles and
// forms only from this server, no framing, referrers only to this server.
func secureHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "same-origin") // "no-referrer" makes browsers send Origin: null with the page's own forms
		hd.Set("X-Frame-Options", "DENY")
		h.ServeHTTP(w, r)
	})
}
