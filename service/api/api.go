// Package api is the HTTP API of `milvault serve` under /api/v1, with
// /healthz, /readyz and /metrics: a thin layer over package service. The
// routes are described by the OpenAPI 3 document served at
// /api/v1/openapi.json.
package api

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/milvault/milvault/errkind"
	"github.com/milvault/milvault/jobs"
	"github.com/milvault/milvault/service"
)

//go:embed openapi.json
var openAPI []byte

// Options configure the handler.
type Options struct {
	Tokens   Tokens
	Gatherer prometheus.Gatherer // the registry the service's metrics are on
	Logger   *slog.Logger        // nil means discard
}

type server struct {
	svc *service.Service
	o   Options
}

// Handler returns the HTTP handler of svc.
func Handler(svc *service.Service, o Options) http.Handler {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	s := &server{svc: svc, o: o}
	t := o.Tokens
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", s.ready)
	mux.Handle("GET /metrics", t.require(RoleRead, promhttp.HandlerFor(o.Gatherer, promhttp.HandlerOpts{}).ServeHTTP))
	mux.HandleFunc("GET /api/v1/openapi.json", t.require(RoleRead, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(openAPI)
	}))
	mux.HandleFunc("GET /api/v1/repositories", t.require(RoleRead, s.repositories))
	mux.HandleFunc("GET /api/v1/repositories/{repo}/backups", t.require(RoleRead, s.listBackups))
	mux.HandleFunc("GET /api/v1/repositories/{repo}/backups/{ref}", t.require(RoleRead, s.getBackup))
	mux.HandleFunc("GET /api/v1/jobs", t.require(RoleRead, s.listJobs))
	mux.HandleFunc("POST /api/v1/jobs", t.require(RoleAdmin, s.startJob))
	mux.HandleFunc("GET /api/v1/jobs/{id}", t.require(RoleRead, s.getJob))
	mux.HandleFunc("GET /api/v1/jobs/{id}/events", t.require(RoleRead, s.jobEvents))
	mux.HandleFunc("POST /api/v1/jobs/{id}/cancel", t.require(RoleAdmin, s.cancelJob))
	mux.HandleFunc("GET /api/v1/policies", t.require(RoleRead, s.policies))
	mux.HandleFunc("POST /api/v1/policies/{name}/run", t.require(RoleAdmin, s.runPolicy))
	mux.HandleFunc("GET /api/v1/policies/{name}/history", t.require(RoleRead, s.policyHistory))
	return mux
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// errorBody is every error answer: the shape of the command line's --json
// error object, {"error": {"kind", "message"}}.
type errorBody struct {
	Error errorObject `json:"error"`
}

type errorObject struct {
	Kind    string `json:"kind"`
	Message string `json:"message"`
}

func writeError(w http.ResponseWriter, status int, kind, msg string) {
	writeJSON(w, status, errorBody{Error: errorObject{Kind: kind, Message: msg}})
}

// fail answers err with the status its kind calls for.
func (s *server) fail(w http.ResponseWriter, err error) {
	kind := errkind.Of(err).String()
	if errors.Is(err, jobs.ErrShutdown) {
		kind = "unavailable"
	}
	writeError(w, statusOf(err), kind, err.Error())
}

// statusOf maps err to its HTTP status through errkind's one table; the
// service shutting down is 503.
func statusOf(err error) int {
	if errors.Is(err, jobs.ErrShutdown) {
		return http.StatusServiceUnavailable
	}
	return errkind.Of(err).HTTPStatus()
}

func (s *server) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	if err := s.svc.Ready(ctx); err != nil {
		writeError(w, http.StatusServiceUnavailable, "not_ready", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

func (s *server) repositories(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.svc.RepositoryNames())
}

func (s *server) listBackups(w http.ResponseWriter, r *http.Request) {
	bs, err := s.svc.ListBackups(r.Context(), r.PathValue("repo"))
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, bs)
}

func (s *server) getBackup(w http.ResponseWriter, r *http.Request) {
	m, err := s.svc.GetBackup(r.Context(), r.PathValue("repo"), r.PathValue("ref"))
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, m)
}

func (s *server) listJobs(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	js, err := s.svc.Jobs().List(func(j jobs.Job) bool {
		return (q.Get("policy") == "" || j.Policy == q.Get("policy")) && (q.Get("state") == "" || string(j.State) == q.Get("state"))
	})
	if err != nil {
		s.fail(w, err)
		return
	}
	if js == nil {
		js = []jobs.Job{}
	}
	writeJSON(w, http.StatusOK, js)
}

func (s *server) getJob(w http.ResponseWriter, r *http.Request) {
	j, err := s.svc.Jobs().Get(r.PathValue("id"))
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, j)
}

func (s *server) startJob(w http.ResponseWriter, r *http.Request) {
	var req service.JobRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, errkind.Usage.String(), "the body must be a JSON job request: "+err.Error())
		return
	}
	req.Principal = s.o.Tokens.Principal(r)
	j, err := s.svc.StartJob(req)
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusAccepted, j)
}

func (s *server) cancelJob(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := s.svc.Jobs().Cancel(id); err != nil {
		s.fail(w, err)
		return
	}
	j, err := s.svc.Jobs().Get(id)
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusAccepted, j)
}

func (s *server) policies(w http.ResponseWriter, r *http.Request) {
	ps, err := s.svc.Policies()
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, ps)
}

func (s *server) runPolicy(w http.ResponseWriter, r *http.Request) {
	j, err := s.svc.RunPolicyAs(r.PathValue("name"), s.o.Tokens.Principal(r))
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusAccepted, j)
}

func (s *server) policyHistory(w http.ResponseWriter, r *http.Request) {
	h, err := s.svc.History(r.PathValue("name"))
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, h)
}
