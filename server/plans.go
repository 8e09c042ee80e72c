package server

import (
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gorilla/mux"

	"github.com/claude-insights/insights/server/render"
	"github.com/claude-insights/insights/store"
)

// planPageSize is how many plans a page of the list shows.
const planPageSize = 50

// checkSlug refuses what cannot be a plan's slug before it reaches the store.
func checkSlug(slug string) error {
	if slug == "" || len(slug) > 200 || !utf8.ValidString(slug) || strings.ContainsFunc(slug, func(r rune) bool { return r < ' ' || r == '/' }) {
		return badRequest("%q is not a plan slug", slug)
	}
	return nil
}

// planTitle is a plan's first Markdown heading, or its slug when it has none.
// Headings inside fenced code do not count.
func planTitle(p store.Plan) string {
	fence := ""
	for line := range strings.Lines(p.Markdown) {
		t := strings.TrimSpace(line)
		if fence != "" {
			if strings.HasPrefix(t, fence) {
				fence = ""
			}
			continue
		}
		if strings.HasPrefix(t, "```") || strings.HasPrefix(t, "~~~") {
			fence = t[:3]
			continue
		}
		if !strings.HasPrefix(t, "#") || len(line)-len(strings.TrimLeft(line, " ")) > 3 {
			continue
		}
		level := len(t) - len(strings.TrimLeft(t, "#"))
		rest := t[level:]
		if level > 6 || (rest != "" && rest[0] != ' ' && rest[0] != '\t') {
			continue
		}
		if h := strings.TrimSpace(strings.TrimRight(strings.TrimSpace(rest), "#")); h != "" {
			return h
		}
	}
	return p.Slug
}

// planRow is a plan as the list shows it.
type planRow struct {
	store.PlanInfo
	Title   string
	Project string // the project of its first session; empty when none
}

// planSession is a session sharing a plan's slug, as a plan lists it.
type planSession struct {
	ID      string
	Title   string
	Project string
	FirstAt time.Time
}

// planSessions reads the sessions of a plan; a session gone since the plan
// was read is left out.
func (s *Server) planSessions(r *http.Request, ids []string) ([]planSession, error) {
	out := []planSession{}
	for _, id := range ids {
		ss, err := s.db.Session(r.Context(), id)
		if errors.Is(err, store.ErrNotFound) || err == nil && !mayRead(r, ss) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, planSession{ID: ss.ID, Title: ss.Title, Project: ss.Project, FirstAt: ss.FirstAt})
	}
	return out, nil
}

// planRows reads a page of the plans, newest first, with the number of all.
func (s *Server) planRows(r *http.Request, limit, offset int) ([]planRow, int, error) {
	all, err := s.db.Plans(r.Context())
	if err != nil {
		return nil, 0, err
	}
	if all, err = s.readablePlans(r, all); err != nil {
		return nil, 0, err
	}
	rows := []planRow{}
	for _, p := range all[min(offset, len(all)):min(offset+limit, len(all))] {
		row := planRow{PlanInfo: p, Title: planTitle(p.Plan)}
		if len(p.Sessions) > 0 {
			ss, err := s.db.Session(r.Context(), p.Sessions[0])
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return nil, 0, err
			}
			row.Project = ss.Project
		}
		rows = append(rows, row)
	}
	return rows, len(all), nil
}

type plansData struct {
	Plans  []planRow
	Total  int
	Page   int
	Pages  int
	Params url.Values // none: the pager's links carry the page alone
	Dir    string
}

func (s *Server) plansPage(r *http.Request) (page, error) {
	n, err := pageNumber(r)
	if err != nil {
		return page{}, err
	}
	rows, total, err := s.planRows(r, planPageSize, (n-1)*planPageSize)
	if err != nil {
		return page{}, err
	}
	d := plansData{Plans: rows, Total: total, Page: n, Pages: (total + planPageSize - 1) / planPageSize, Dir: s.opts.ClaudeDir}
	if n > 1 && n > d.Pages {
		return page{}, notFound("page %d: the list has %d pages", n, d.Pages)
	}
	return page{Template: "plans", Title: "Plans", Data: d}, nil
}

type planData struct {
	store.PlanInfo
	Title    string
	HTML     template.HTML
	Sessions []planSession
}

func (s *Server) loadPlan(r *http.Request) (planData, error) {
	slug := mux.Vars(r)["slug"]
	if err := checkSlug(slug); err != nil {
		return planData{}, err
	}
	p, err := s.db.Plan(r.Context(), slug)
	if errors.Is(err, store.ErrNotFound) {
		return planData{}, notFound("no plan %s", slug)
	}
	if err != nil {
		return planData{}, err
	}
	ss, err := s.planSessions(r, p.Sessions)
	if err != nil {
		return planData{}, err
	}
	if u, ok := viewerOf(r); ok && !u.Admin && len(ss) == 0 {
		return planData{}, notFound("no plan %s among your sessions", slug)
	}
	return planData{PlanInfo: p, Title: planTitle(p.Plan), Sessions: ss}, nil
}

func (s *Server) planPage(r *http.Request) (page, error) {
	d, err := s.loadPlan(r)
	if err != nil {
		return page{}, err
	}
	d.HTML = render.Markdown(d.Markdown)
	return page{Template: "plan", Title: d.Title, Data: d}, nil
}

type apiPlanSession struct {
	ID      string     `json:"id"`
	Title   string     `json:"title"`
	Project string     `json:"project"`
	FirstAt *time.Time `json:"firstAt"`
}

type apiPlan struct {
	Slug       string           `json:"slug"`
	Title      string           `json:"title"`
	Path       string           `json:"path"`
	ModifiedAt *time.Time       `json:"modifiedAt"`
	Project    string           `json:"project"`
	Markdown   string           `json:"markdown"`
	Sessions   []apiPlanSession `json:"sessions"`
}

type apiPlanList struct {
	Total  int       `json:"total"`
	Limit  int       `json:"limit"`
	Offset int       `json:"offset"`
	Plans  []apiPlan `json:"plans"`
}

func toAPIPlan(p store.PlanInfo, title string, ss []planSession) apiPlan {
	out := apiPlan{Slug: p.Slug, Title: title, Path: p.Path, ModifiedAt: timePtr(p.ModTime), Markdown: p.Markdown,
		Sessions: []apiPlanSession{}}
	for _, s := range ss {
		out.Sessions = append(out.Sessions, apiPlanSession{ID: s.ID, Title: s.Title, Project: s.Project, FirstAt: timePtr(s.FirstAt)})
	}
	if len(ss) > 0 {
		out.Project = ss[0].Project
	}
	return out
}

// apiPlans is GET /api/plans: the plans, newest first, each with its
// Markdown and sessions, with limit (default 50, at most 500) and offset.
func (s *Server) apiPlans(r *http.Request) (any, error) {
	limit, offset, err := pageParams(r, planPageSize, 500)
	if err != nil {
		return nil, err
	}
	rows, total, err := s.planRows(r, limit, offset)
	if err != nil {
		return nil, err
	}
	out := apiPlanList{Total: total, Limit: limit, Offset: offset, Plans: []apiPlan{}}
	for _, p := range rows {
		ss, err := s.planSessions(r, p.Sessions)
		if err != nil {
			return nil, err
		}
		out.Plans = append(out.Plans, toAPIPlan(p.PlanInfo, p.Title, ss))
	}
	return out, nil
}

// apiPlan is GET /api/plans/{slug}.
func (s *Server) apiPlan(r *http.Request) (any, error) {
	d, err := s.loadPlan(r)
	if err != nil {
		return nil, err
	}
	return toAPIPlan(d.PlanInfo, d.Title, d.Sessions), nil
}
