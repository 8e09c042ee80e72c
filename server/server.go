// Package server holds the HTTP handlers of both modes: the pages and the
// JSON API over a store.Driver. Handlers decode input, call the store and
// render; they hold no SQL.
package server

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"github.com/claude-insights/insights/server/render"
	"github.com/claude-insights/insights/static"
	"github.com/claude-insights/insights/store"
	"github.com/claude-insights/insights/templates"
)

// Options configure a Server.
type Options struct {
	// ClaudeDir is where transcripts are read from, named on empty pages.
	ClaudeDir string
	// Location is the time zone pages show times in; nil is UTC.
	Location *time.Location
	Log      *slog.Logger
	// Heartbeat is how often an idle event stream sends a comment; zero is
	// every 15 seconds.
	Heartbeat time.Duration
}

// Server serves the pages and the JSON API over one database.
type Server struct {
	responder
	db   store.Driver
	opts Options
	live *hub
	// owner, in team mode, finds the user who uploaded a session, whom its
	// replay names with their share level.
	owner func(ctx context.Context, id int64) (store.User, error)
}

// New returns a server over db. It parses the embedded templates, so that a
// broken template fails at start rather than on a request.
func New(db store.Driver, opts Options) (*Server, error) {
	if opts.Location == nil {
		opts.Location = time.UTC
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Heartbeat <= 0 {
		opts.Heartbeat = defaultHeartbeat
	}
	s := &Server{responder: responder{log: opts.Log}, db: db, opts: opts, live: newHub()}
	pages, err := templates.Parse(s.funcs())
	if err != nil {
		return nil, err
	}
	s.pages = pages
	return s, nil
}

// Handler returns the whole route table of the UI.
func (s *Server) Handler() http.Handler {
	r := mux.NewRouter()
	r.StrictSlash(true)
	get := func(path string, h handlerFunc) { r.Handle(path, s.html(h)).Methods(http.MethodGet, http.MethodHead) }
	api := func(path string, h apiFunc) { r.Handle(path, s.json(h)).Methods(http.MethodGet, http.MethodHead) }
	raw := func(path string, h writerFunc) {
		r.Handle(path, s.jsonWriter(h)).Methods(http.MethodGet, http.MethodHead)
	}
	file := func(path string, h http.HandlerFunc) { r.Handle(path, h).Methods(http.MethodGet, http.MethodHead) }

	// A session id holds no dot, so that /sessions/{id} leaves the exports
	// /sessions/{id}.md and .jsonl to their own handlers.
	get("/", s.sessionsPage)
	get("/sessions", s.sessionsPage)
	get("/sessions/{id:[^/.]+}", s.replayPage)
	file("/sessions/{id:[^/.]+}.md", s.exportMarkdown)
	file("/sessions/{id:[^/.]+}.jsonl", s.exportJSONL)
	get("/sessions/{id:[^/.]+}/todos", s.todosPage)
	get("/sessions/{id}/tools/{tool}", s.toolPage)
	file("/sessions/{id}/steps", s.replaySteps)
	get("/search", s.searchPage)
	get("/plans", s.plansPage)
	get("/plans/{slug}", s.planPage)
	get("/history", s.historyPage)
	get("/usage", s.usagePage)

	api("/api/sessions", s.apiSessions)
	api("/api/sessions/{id}", s.apiSession)
	api("/api/sessions/{id}/messages", s.apiMessages)
	api("/api/sessions/{id}/todos", s.apiTodos)
	api("/api/search", s.apiSearch)
	api("/api/plans", s.apiPlans)
	api("/api/plans/{slug}", s.apiPlan)
	api("/api/history", s.apiHistory)
	api("/api/stats", s.apiStats)
	raw("/api/usage", s.apiUsage)

	// Streams of changes, fed by the watcher (live.go).
	r.HandleFunc("/api/sessions/{id}/events", s.sessionEvents).Methods(http.MethodGet)
	r.HandleFunc("/api/events", s.allEvents).Methods(http.MethodGet)

	r.PathPrefix("/static/").Handler(http.StripPrefix("/static/", staticFiles()))
	r.NotFoundHandler = s.html(func(*http.Request) (page, error) {
		return page{}, notFound("no such page")
	})
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	})
	return s.secure(s.recoverPanics(r))
}

// staticFiles serves the embedded files, with the stylesheet of highlighted
// code made from the highlighter's own style.
func staticFiles() http.Handler {
	files := http.FileServer(http.FS(static.Files))
	chroma := []byte(render.CSS())
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		if r.URL.Path == "chroma.css" {
			w.Header().Set("Content-Type", "text/css; charset=utf-8")
			w.Write(chroma)
			return
		}
		files.ServeHTTP(w, r)
	})
}

// contentPolicy lets pages load scripts, styles and images only from this
// server (images also from data: URLs, the transcripts' own pictures): a
// script that slips into a page by mistake still does not run.
const contentPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

func (s *responder) secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		next.ServeHTTP(w, r)
	})
}

func (s *responder) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("panic serving a request", "path", r.URL.Path, "panic", v)
				http.Error(w, "internal error", http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(w, r)
	})
}
