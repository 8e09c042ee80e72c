package server

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/claude-insights/insights/store"
)

// searchPageSize is how many hits a page of results shows.
const searchPageSize = 20

// searchRoles are the roles hits can be filtered by.
var searchRoles = []string{"user", "assistant", "system"}

// searchQuery reads a search from a request's parameters:
//
//	q (the query, see store.SearchQuery), project, role, tool, session,
//	since and until (dates, YYYY-MM-DD, both inclusive, in the server's zone).
func (s *Server) searchQuery(r *http.Request) (store.SearchQuery, error) {
	v := r.URL.Query()
	q := store.SearchQuery{
		Text: strings.TrimSpace(v.Get("q")), Project: v.Get("project"), Role: v.Get("role"),
		Tool: strings.TrimSpace(v.Get("tool")), SessionID: v.Get("session"), UserID: scopeOf(r),
	}
	if q.Role != "" && !slices.Contains(searchRoles, q.Role) {
		return q, badRequest("role=%q: want %s", q.Role, strings.Join(searchRoles, ", "))
	}
	var err error
	q.Since, q.Until, err = s.dayRange(v)
	return q, err
}

// hitLink is where a hit is in its session's replay: the message's anchor,
// which the replay scrolls to and marks, on whichever page holds it.
func hitLink(h store.SearchHit) string {
	if h.AgentID != "" {
		return fmt.Sprintf("/sessions/%s#m-%s-%d", url.PathEscape(h.SessionID), url.PathEscape(h.AgentID), h.Seq)
	}
	return fmt.Sprintf("/sessions/%s#m-%d", url.PathEscape(h.SessionID), h.Seq)
}

type searchData struct {
	Query  store.SearchQuery
	Params url.Values // the search as given, to keep it in links
	Result store.SearchResult
	Hits   []searchHit
	// Error says why the query could not be run.
	Error    string
	Projects []store.Facet
	Roles    []string
	// From and To number the hits shown (1-based); Prev and Next are the
	// offsets of the neighbouring pages, -1 when there is none.
	From, To   int
	Prev, Next int
	Filters    bool
}

type searchHit struct {
	store.SearchHit
	Link string
}

// searchPage is GET /search: the form, and the hits of a query, best first.
// A query that cannot be understood is answered with the form and why.
func (s *Server) searchPage(r *http.Request) (page, error) {
	q, err := s.searchQuery(r)
	if err != nil {
		return page{}, err
	}
	offset, err := intParam(r, "offset", 0, 0)
	if err != nil {
		return page{}, err
	}
	facets, err := s.db.Facets(r.Context(), scopeOf(r))
	if err != nil {
		return page{}, err
	}
	params := keptParams(r, "q", "project", "role", "tool", "session", "since", "until")
	d := searchData{Query: q, Params: params, Projects: facets.Projects, Roles: searchRoles, Prev: -1, Next: -1}
	for k := range params {
		d.Filters = d.Filters || k != "q"
	}
	p := page{Template: "search", Title: "Search", Data: &d, Search: q.Text}
	if q.Text == "" {
		return p, nil
	}
	p.Title = q.Text + " · Search"
	q.Limit, q.Offset = searchPageSize, offset
	d.Result, err = s.db.Search(r.Context(), q)
	if store.IsQueryError(err) {
		d.Error = strings.TrimPrefix(err.Error(), "search query: ")
		p.Status = http.StatusBadRequest
		return p, nil
	}
	if err != nil {
		return page{}, err
	}
	if offset > 0 && int64(offset) >= d.Result.Total {
		return page{}, notFound("offset %d: the search has %d hits", offset, d.Result.Total)
	}
	for _, h := range d.Result.Hits {
		d.Hits = append(d.Hits, searchHit{SearchHit: h, Link: hitLink(h)})
	}
	d.From, d.To = offset+1, offset+len(d.Hits)
	if offset > 0 {
		d.Prev = max(offset-searchPageSize, 0)
	}
	if int64(d.To) < d.Result.Total {
		d.Next = d.To
	}
	return p, nil
}

// apiSearchResult is the answer of GET /api/search.
type apiSearchResult struct {
	Query  string         `json:"query"`
	Total  int64          `json:"total"`
	Limit  int            `json:"limit"`
	Offset int            `json:"offset"`
	Hits   []apiSearchHit `json:"hits"`
}

type apiSearchHit struct {
	store.SearchHit
	// URL is the hit's place in the replay UI.
	URL string `json:"url"`
}

// apiSearch is GET /api/search: the page's parameters, with limit (default
// 20, at most 200) and offset. A query that cannot be understood is a 400.
func (s *Server) apiSearch(r *http.Request) (any, error) {
	q, err := s.searchQuery(r)
	if err != nil {
		return nil, err
	}
	if q.Text == "" {
		return nil, badRequest("q: say what to search for")
	}
	if q.Limit, q.Offset, err = pageParams(r, store.DefaultSearchLimit, store.MaxSearchLimit); err != nil {
		return nil, err
	}
	res, err := s.db.Search(r.Context(), q)
	if err != nil {
		return nil, err
	}
	out := apiSearchResult{Query: q.Text, Total: res.Total, Limit: q.Limit, Offset: q.Offset, Hits: []apiSearchHit{}}
	for _, h := range res.Hits {
		h.Timestamp = h.Timestamp.UTC().Truncate(time.Millisecond)
		out.Hits = append(out.Hits, apiSearchHit{SearchHit: h, URL: hitLink(h)})
	}
	return out, nil
}
