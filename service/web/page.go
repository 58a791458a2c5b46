package web

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/milvault/milvault/jobs"
	"github.com/milvault/milvault/service"
)

// recentJobs is how many jobs the page lists; backupsPerGroup how many
// backups of one collection set.
const (
	recentJobs      = 20
	backupsPerGroup = 10
)

// statusView is everything the status page shows.
type statusView struct {
	Viewer       viewer
	Now          time.Time
	Policies     []policyView
	Jobs         []jobView
	Repositories []repoView
	Cancelled    string // the job just cancelled from the page, if any
}

type policyView struct {
	service.PolicyStatus
	Health string // green, amber, red or grey
	Reason string // why, in words
	Charts []chart
}

type jobView struct {
	jobs.Job
	Percent int // progress of a running job, -1 when its total is unknown
	Live    bool
	Took    time.Duration
}

type repoView struct {
	Name   string
	Error  string
	Groups []backupGroup
}

// backupGroup is the backups of one set of collections, newest first.
type backupGroup struct {
	Collections string
	Backups     []service.BackupSummary
	More        int
}

func (s *server) status(w http.ResponseWriter, r *http.Request) {
	v, err := s.gather(r.Context())
	if err != nil {
		s.renderError(w, http.StatusInternalServerError, "The job history could not be read: "+err.Error())
		return
	}
	v.Viewer = viewerOf(r)
	v.Cancelled = r.URL.Query().Get("cancelled")
	s.render(w, http.StatusOK, "status.html", v)
}

// gather reads the page's data through the service, as the API does.
func (s *server) gather(ctx context.Context) (*statusView, error) {
	now := s.o.Now()
	v := &statusView{Now: now}
	ps, err := s.svc.Policies()
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		h, err := s.svc.History(p.Name)
		if err != nil {
			return nil, err
		}
		pv := policyView{PolicyStatus: p, Charts: policyCharts(h)}
		pv.Health, pv.Reason = health(p, now)
		v.Policies = append(v.Policies, pv)
	}
	if v.Jobs, err = s.recentJobs(now); err != nil {
		return nil, err
	}
	for _, name := range s.svc.RepositoryNames() {
		v.Repositories = append(v.Repositories, s.repository(ctx, name))
	}
	return v, nil
}

func (s *server) recentJobs(now time.Time) ([]jobView, error) {
	js, err := s.svc.Jobs().List(nil)
	if err != nil {
		return nil, err
	}
	out := []jobView{}
	for _, j := range js[:min(len(js), recentJobs)] {
		out = append(out, jobView{Job: j, Percent: percent(j.Progress), Live: !j.State.Final(), Took: j.Duration(now).Round(time.Second)})
	}
	return out, nil
}

// percent is a job's progress in percent, by rows or else by bytes; -1
// when no total is known.
func percent(p jobs.Progress) int {
	switch {
	case p.TotalRows > 0:
		return int(min(100, 100*p.Rows/p.TotalRows))
	case p.TotalBytes > 0:
		return int(min(100, 100*p.Bytes/p.TotalBytes))
	}
	return -1
}

// repository lists a repository's backups grouped by their collections;
// an unreachable repository is shown with its error.
func (s *server) repository(ctx context.Context, name string) repoView {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	bs, err := s.svc.ListBackups(ctx, name)
	if err != nil {
		return repoView{Name: name, Error: err.Error()}
	}
	rv := repoView{Name: name}
	index := map[string]int{}
	for _, b := range bs {
		key := strings.Join(b.Collections, ", ")
		i, ok := index[key]
		if !ok {
			i = len(rv.Groups)
			index[key] = i
			rv.Groups = append(rv.Groups, backupGroup{Collections: key})
		}
		g := &rv.Groups[i]
		if len(g.Backups) < backupsPerGroup {
			g.Backups = append(g.Backups, b)
		} else {
			g.More++
		}
	}
	slices.SortFunc(rv.Groups, func(a, b backupGroup) int { return strings.Compare(a.Collections, b.Collections) })
	return rv
}

// health is a policy's colour: red when its RPO is violated, amber when it
// has no success yet, its last run failed or its newest success is past
// three quarters of the RPO, green otherwise (grey: never ran, no RPO).
func health(p service.PolicyStatus, now time.Time) (string, string) {
	lastFailed := p.LastJob != nil && p.LastJob.State.Final() && p.LastJob.State != jobs.StateSucceeded
	rpo := time.Duration(p.RPOSeconds * float64(time.Second))
	switch {
	case p.RPOState == "violated":
		return "red", fmt.Sprintf("newest success is older than the RPO (%s)", rpo)
	case p.RPOState == "unknown":
		return "amber", "no successful run recorded yet"
	case lastFailed:
		return "amber", "the last run " + string(p.LastJob.State)
	case p.RPOState == "ok" && now.Sub(p.LastSuccess) > rpo*3/4:
		return "amber", fmt.Sprintf("newest success is close to the RPO (%s)", rpo)
	case p.LastSuccess.IsZero():
		return "grey", "no run yet (no RPO set)"
	}
	return "green", "within its RPO"
}

func (s *server) jobsFragment(w http.ResponseWriter, r *http.Request) {
	js, err := s.recentJobs(s.o.Now())
	if err != nil {
		s.renderError(w, http.StatusInternalServerError, err.Error())
		return
	}
	s.render(w, http.StatusOK, "jobs", statusView{Viewer: viewerOf(r), Jobs: js})
}

func (s *server) confirmCancel(w http.ResponseWriter, r *http.Request) {
	j, err := s.svc.Jobs().Get(r.PathValue("id"))
	if err != nil {
		s.renderError(w, http.StatusNotFound, err.Error())
		return
	}
	s.render(w, http.StatusOK, "cancel.html", struct {
		Viewer viewer
		Job    jobView
	}{viewerOf(r), jobView{Job: j, Percent: percent(j.Progress), Live: !j.State.Final()}})
}

func (s *server) cancel(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := s.svc.Jobs().Cancel(id); err != nil {
		s.renderError(w, http.StatusConflict, err.Error())
		return
	}
	s.o.Logger.Info("job cancelled from the status page", "job", id, "remote", r.RemoteAddr)
	http.Redirect(w, r, "/?cancelled="+url.QueryEscape(id), http.StatusSeeOther)
}

func (s *server) renderLogin(w http.ResponseWriter, status int, msg string) {
	s.render(w, status, "login.html", struct{ Error string }{msg})
}

func (s *server) renderError(w http.ResponseWriter, status int, msg string) {
	s.render(w, status, "error.html", struct {
		Status  int
		Message string
	}{status, msg})
}

// render executes a template into a buffer first, so that a template
// error is a clean 500, not half a page.
func (s *server) render(w http.ResponseWriter, status int, name string, data any) {
	var buf bytes.Buffer
	if err := s.pages.t.ExecuteTemplate(&buf, name, data); err != nil {
		s.o.Logger.Error("status page not rendered", "template", name, "error", err)
		http.Error(w, "the page could not be rendered: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	buf.WriteTo(w)
}
