package server

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/claude-insights/insights/store"
)

// historyPageSize is how many prompts a page of the history shows.
const historyPageSize = 50

// maxFilter bounds the text of a filter.
const maxFilter = 500

// textParam reads a filter's text, refusing what no prompt can hold.
func textParam(r *http.Request, name string) (string, error) {
	v := strings.TrimSpace(r.URL.Query().Get(name))
	if len(v) > maxFilter || !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
		return "", badRequest("%s: want at most %d characters of text", name, maxFilter)
	}
	return v, nil
}

// promptQuery reads the filters of the prompt history: q (text), project
// and session.
func promptQuery(r *http.Request) (store.PromptQuery, error) {
	var q store.PromptQuery
	var err error
	if q.Text, err = textParam(r, "q"); err != nil {
		return q, err
	}
	if q.Project, err = textParam(r, "project"); err != nil {
		return q, err
	}
	if q.SessionID = r.URL.Query().Get("session"); q.SessionID != "" {
		if err := checkID(q.SessionID); err != nil {
			return q, err
		}
	}
	return q, nil
}

// promptRow is a prompt as the history shows it; Linked says its session
// is stored, so that a link to it leads somewhere.
type promptRow struct {
	store.Prompt
	Linked bool
}

// prompts reads a page of the history with the number of all it selects.
func (s *Server) prompts(r *http.Request, q store.PromptQuery) ([]promptRow, int64, error) {
	total, err := s.db.CountPrompts(r.Context(), q)
	if err != nil {
		return nil, 0, err
	}
	ps, err := s.db.Prompts(r.Context(), q)
	if err != nil {
		return nil, 0, err
	}
	known := map[string]bool{}
	rows := make([]promptRow, 0, len(ps))
	for _, p := range ps {
		if p.SessionID != "" {
			ok, seen := known[p.SessionID]
			if !seen {
				_, err := s.db.Session(r.Context(), p.SessionID)
				if err != nil && !errors.Is(err, store.ErrNotFound) {
					return nil, 0, err
				}
				ok = err == nil
				known[p.SessionID] = ok
			}
			rows = append(rows, promptRow{Prompt: p, Linked: ok})
			continue
		}
		rows = append(rows, promptRow{Prompt: p})
	}
	return rows, total, nil
}

type historyData struct {
	Query    store.PromptQuery
	Params   url.Values
	Prompts  []promptRow
	Projects []store.Facet
	Total    int64
	Page     int
	Pages    int
	Filters  bool
	Dir      string
}

func (s *Server) historyPage(r *http.Request) (page, error) {
	q, err := promptQuery(r)
	if err != nil {
		return page{}, err
	}
	n, err := pageNumber(r)
	if err != nil {
		return page{}, err
	}
	q.Limit, q.Offset = historyPageSize, (n-1)*historyPageSize
	rows, total, err := s.prompts(r, q)
	if err != nil {
		return page{}, err
	}
	facets, err := s.db.Facets(r.Context(), scopeOf(r))
	if err != nil {
		return page{}, err
	}
	params := keptParams(r, "q", "project", "session")
	d := historyData{Query: q, Params: params, Prompts: rows, Projects: facets.Projects, Total: total, Page: n,
		Pages: int((total + historyPageSize - 1) / historyPageSize), Filters: len(params) > 0, Dir: s.opts.ClaudeDir}
	if n > 1 && n > d.Pages {
		return page{}, notFound("page %d: the history has %d pages", n, d.Pages)
	}
	return page{Template: "history", Title: "Prompt history", Data: d}, nil
}

type apiPrompt struct {
	At        *time.Time      `json:"at"`
	Project   string          `json:"project"`
	SessionID string          `json:"sessionId,omitempty"`
	Session   bool            `json:"sessionStored"`
	Text      string          `json:"text"`
	Pasted    json.RawMessage `json:"pasted,omitempty"`
}

type apiPromptList struct {
	Total   int64       `json:"total"`
	Limit   int         `json:"limit"`
	Offset  int         `json:"offset"`
	Prompts []apiPrompt `json:"prompts"`
}

// apiHistory is GET /api/history: the prompt history, newest first, with the
// page's filters (q, project, session), limit (default 50, at most 500) and
// offset.
func (s *Server) apiHistory(r *http.Request) (any, error) {
	q, err := promptQuery(r)
	if err != nil {
		return nil, err
	}
	if q.Limit, q.Offset, err = pageParams(r, historyPageSize, 500); err != nil {
		return nil, err
	}
	rows, total, err := s.prompts(r, q)
	if err != nil {
		return nil, err
	}
	out := apiPromptList{Total: total, Limit: q.Limit, Offset: q.Offset, Prompts: []apiPrompt{}}
	for _, p := range rows {
		out.Prompts = append(out.Prompts, apiPrompt{At: timePtr(p.At), Project: p.Project, SessionID: p.SessionID,
			Session: p.Linked, Text: p.Text, Pasted: canonicalJSON(p.Pasted)})
	}
	return out, nil
}
