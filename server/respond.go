package server

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/claude-insights/insights/store"
)

// responder renders pages and JSON, and answers errors, for both of the
// solo servers: the replay UI and the SQL explorer.
type responder struct {
	pages map[string]*template.Template
	log   *slog.Logger
	// decorate, when set, completes every page before it is rendered (the
	// team dashboard adds who is signed in).
	decorate func(r *http.Request, p *page)
}

// page is an HTML page to render: a template and its data.
type page struct {
	Template string
	Title    string
	Data     any
	// Search is the query the search box in the header shows.
	Search string
	// Status is the HTTP status to answer with; zero is 200.
	Status int
	// Explorer is set on the SQL explorer's pages, which have a nav of
	// their own.
	Explorer *explorerNav
	// Team is set on the team dashboard's pages.
	Team *teamNav
}

// handlerFunc answers with a page, or an error that says the status.
type handlerFunc func(r *http.Request) (page, error)

// apiFunc answers with a value encoded as JSON, or an error.
type apiFunc func(r *http.Request) (any, error)

// httpError is an error the client caused, with the status to answer.
type httpError struct {
	Status int
	Msg    string
}

func (e *httpError) Error() string { return e.Msg }

func badRequest(format string, a ...any) error {
	return &httpError{Status: http.StatusBadRequest, Msg: fmt.Sprintf(format, a...)}
}

func forbidden(format string, a ...any) error {
	return &httpError{Status: http.StatusForbidden, Msg: fmt.Sprintf(format, a...)}
}

func notFound(format string, a ...any) error {
	return &httpError{Status: http.StatusNotFound, Msg: fmt.Sprintf(format, a...)}
}

// status is the HTTP status of an error and the message shown with it: the
// client's own errors say what was wrong; others are logged, not shown.
func (s *responder) status(r *http.Request, err error) (int, string) {
	var he *httpError
	var qe *store.QueryError
	var se *store.SQLError
	var ie *store.InputError
	switch {
	case errors.As(err, &he):
		return he.Status, he.Msg
	case errors.Is(err, store.ErrNotFound):
		return http.StatusNotFound, "not found"
	case errors.As(err, &qe):
		return http.StatusBadRequest, qe.Error()
	case errors.As(err, &se):
		return http.StatusBadRequest, se.Error()
	case errors.As(err, &ie):
		return http.StatusBadRequest, ie.Error()
	case errors.Is(err, store.ErrForbidden):
		return http.StatusForbidden, err.Error()
	case errors.Is(err, context.Canceled):
		return 499, "request cancelled"
	}
	s.log.Error("serving a request", "path", r.URL.Path, "err", err)
	return http.StatusInternalServerError, "internal error: see the server's log"
}

type errorData struct {
	Status  int
	Message string
}

func (s *responder) html(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := h(r)
		code := cmp.Or(p.Status, http.StatusOK)
		if err != nil {
			var msg string
			code, msg = s.status(r, err)
			p = page{Template: "error", Title: http.StatusText(code), Data: errorData{Status: code, Message: msg}}
		}
		if s.decorate != nil {
			s.decorate(r, &p)
		}
		var b bytes.Buffer
		if err := s.pages[p.Template].ExecuteTemplate(&b, "layout", p); err != nil {
			s.log.Error("render page", "template", p.Template, "path", r.URL.Path, "err", err)
			http.Error(w, "internal error: see the server's log", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(code)
		w.Write(b.Bytes())
	})
}

func (s *responder) json(h apiFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, err := h(r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		s.writeJSON(w, r, http.StatusOK, v)
	})
}

// writeError answers with an error as JSON: {"error": …}.
func (s *responder) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code, msg := s.status(r, err)
	s.writeJSON(w, r, code, map[string]string{"error": msg})
}

func (s *responder) writeJSON(w http.ResponseWriter, r *http.Request, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		s.log.Error("encode JSON", "path", r.URL.Path, "err", err)
		code, b = http.StatusInternalServerError, []byte(`{"error":"internal error: see the server's log"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	w.Write(append(b, '\n'))
}

// pageNumber reads the page of a list a page shows, 1 when absent.
func pageNumber(r *http.Request) (int, error) {
	n, err := intParam(r, "page", 1, 0)
	return max(n, 1), err
}

// pageParams reads the limit (def when absent, at least 1, at most max) and
// offset of a page of a JSON list.
func pageParams(r *http.Request, def, max int) (limit, offset int, err error) {
	if limit, err = intParam(r, "limit", def, max); err != nil {
		return 0, 0, err
	}
	if offset, err = intParam(r, "offset", 0, 0); err != nil {
		return 0, 0, err
	}
	return cmp.Or(limit, 1), offset, nil
}

// intParam reads a non-negative integer parameter; def when absent.
func intParam(r *http.Request, name string, def, max int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, badRequest("%s=%q: want a whole number, 0 or more", name, v)
	}
	if max > 0 && n > max {
		return 0, badRequest("%s=%d: at most %d", name, n, max)
	}
	return n, nil
}
