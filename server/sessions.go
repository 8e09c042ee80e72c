package server

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/claude-insights/insights/store"
)

// listPageSize is how many sessions a page of the list shows.
const listPageSize = 50

// sessionQuery reads the filters and order of a session list from a
// request's parameters:
//
//	project, model, tag, q (text), errors=1,
//	since and until (dates, YYYY-MM-DD, both inclusive, in the server's zone),
//	sort (one of store.SessionSorts) and order (asc or desc).
func (s *Server) sessionQuery(r *http.Request) (store.SessionQuery, error) {
	v := r.URL.Query()
	q := store.SessionQuery{
		Project: v.Get("project"), Model: v.Get("model"), Tag: v.Get("tag"), Text: strings.TrimSpace(v.Get("q")),
		Sort: v.Get("sort"), Desc: true, UserID: scopeOf(r),
	}
	if err := q.Validate(); err != nil {
		return q, badRequest("%v", err)
	}
	switch o := v.Get("order"); o {
	case "", "desc":
	case "asc":
		q.Desc = false
	default:
		return q, badRequest("order=%q: want asc or desc", o)
	}
	switch e := v.Get("errors"); e {
	case "", "0", "false":
	case "1", "true", "on":
		q.HasErrors = true
	default:
		return q, badRequest("errors=%q: want 1 or 0", e)
	}
	var err error
	q.Since, q.Until, err = s.dayRange(v)
	return q, err
}

// dayRange reads the days since and until (both inclusive, in the server's
// zone) as the instants they span: the start of since, the end of until.
func (s *Server) dayRange(v url.Values) (since, until time.Time, err error) {
	if since, err = s.dateParam(v, "since"); err != nil {
		return since, until, err
	}
	if until, err = s.dateParam(v, "until"); err != nil {
		return since, until, err
	}
	if !until.IsZero() {
		until = until.AddDate(0, 0, 1)
	}
	if !since.IsZero() && !until.IsZero() && !since.Before(until) {
		return since, until, badRequest("since=%s is after until=%s", v.Get("since"), v.Get("until"))
	}
	return since, until, nil
}

// dateParam reads a date as the start of that day in the server's zone.
func (s *Server) dateParam(v url.Values, name string) (time.Time, error) {
	d := v.Get(name)
	if d == "" {
		return time.Time{}, nil
	}
	t, err := time.ParseInLocation(time.DateOnly, d, s.opts.Location)
	if err != nil {
		return t, badRequest("%s=%q: want a date as YYYY-MM-DD", name, d)
	}
	return t, nil
}

type sessionsData struct {
	Query   store.SessionQuery
	Params  url.Values // the filters as given, to keep them in links
	List    store.SessionList
	Facets  store.Facets
	Page    int
	Pages   int
	Filters bool // whether any filter is set
	Dir     string
}

func (s *Server) sessionsPage(r *http.Request) (page, error) {
	q, err := s.sessionQuery(r)
	if err != nil {
		return page{}, err
	}
	n, err := pageNumber(r)
	if err != nil {
		return page{}, err
	}
	q.Limit, q.Offset = listPageSize, (n-1)*listPageSize
	list, err := s.db.Sessions(r.Context(), q)
	if err != nil {
		return page{}, err
	}
	facets, err := s.db.Facets(r.Context(), scopeOf(r))
	if err != nil {
		return page{}, err
	}
	params := keptParams(r, "project", "model", "tag", "q", "errors", "since", "until", "sort", "order")
	d := sessionsData{
		Query: q, Params: params, List: list, Facets: facets, Page: n,
		Pages: int((list.Total + listPageSize - 1) / listPageSize), Dir: s.opts.ClaudeDir,
	}
	for k := range params {
		d.Filters = d.Filters || (k != "sort" && k != "order")
	}
	if n > 1 && n > d.Pages {
		return page{}, notFound("page %d: the list has %d pages", n, d.Pages)
	}
	return page{Template: "sessions", Title: "Sessions", Data: d}, nil
}

// apiSessions is GET /api/sessions: the list's filters, with limit (default
// 50, at most 500) and offset.
func (s *Server) apiSessions(r *http.Request) (any, error) {
	q, err := s.sessionQuery(r)
	if err != nil {
		return nil, err
	}
	if q.Limit, q.Offset, err = pageParams(r, listPageSize, 500); err != nil {
		return nil, err
	}
	list, err := s.db.Sessions(r.Context(), q)
	if err != nil {
		return nil, err
	}
	out := apiSessionList{Total: list.Total, Limit: q.Limit, Offset: q.Offset, Sessions: []apiSession{}}
	for _, l := range list.Sessions {
		out.Sessions = append(out.Sessions, toAPISession(l.Session, l.Tags, l.Models))
	}
	return out, nil
}

// keptParams are the parameters of a request that a page keeps in its links
// (to other pages, other orders): those of keys that are set.
func keptParams(r *http.Request, keys ...string) url.Values {
	params := url.Values{}
	for _, k := range keys {
		if v := r.URL.Query().Get(k); v != "" {
			params.Set(k, v)
		}
	}
	return params
}

// withParam returns the query string of params with one key set (or
// removed, for an empty value).
func withParam(params url.Values, kv ...string) string {
	v := url.Values{}
	for k, vs := range params {
		v[k] = vs
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			v.Del(kv[i])
		} else {
			v.Set(kv[i], kv[i+1])
		}
	}
	if len(v) == 0 {
		return "?"
	}
	return "?" + v.Encode()
}

// sortLink is the query string that sorts the list by a column: descending
// first, ascending when it is already sorted so.
func sortLink(params url.Values, q store.SessionQuery, by string) string {
	order := "desc"
	cur := q.Sort
	if cur == "" {
		cur = store.SortStart
	}
	if cur == by && q.Desc {
		order = "asc"
	}
	return withParam(params, "sort", by, "order", order, "page", "")
}

func itoa(n int) string { return strconv.Itoa(n) }
