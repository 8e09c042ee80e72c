package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gorilla/mux"

	"github.com/claude-insights/insights/store"
)

// DashboardOptions configure the team dashboard.
type DashboardOptions struct {
	Log *slog.Logger
	// SessionTTL is how long a sign-in lasts (default 12 hours).
	SessionTTL time.Duration
	// PublicURL is where users reach the dashboard; an https:// one makes
	// its cookies Secure whatever the request (behind a proxy that ends
	// TLS).
	PublicURL string
	// LoginFailures is how many failed sign-ins as one user name may be
	// made in LoginWindow before the next must wait (default 5 in 15
	// minutes); one client address may make ten times as many.
	LoginFailures int
	LoginWindow   time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Dashboard serves the team dashboard: sign-in, the team's statistics, and
// the replay UI's pages over the sessions a user may read.
type Dashboard struct {
	*Server
	team   store.Team
	opts   DashboardOptions
	logins *loginLimiter
	// draining is set when the server is stopping: readiness answers 503
	// so that a load balancer sends no more requests.
	draining atomic.Bool
}

// NewDashboard returns the dashboard over db and the team's users.
func NewDashboard(db store.Driver, team store.Team, opts DashboardOptions) (*Dashboard, error) {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.SessionTTL <= 0 {
		opts.SessionTTL = 12 * time.Hour
	}
	if opts.LoginFailures <= 0 {
		opts.LoginFailures = 5
	}
	if opts.LoginWindow <= 0 {
		opts.LoginWindow = 15 * time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	srv, err := New(db, Options{Location: time.UTC, Log: opts.Log})
	if err != nil {
		return nil, err
	}
	d := &Dashboard{Server: srv, team: team, opts: opts, logins: newLoginLimiter(opts.LoginFailures, opts.LoginWindow, opts.Now)}
	srv.decorate = d.decorate
	srv.owner = d.userByID
	return d, nil
}

// userByID finds a user by id among all: a team has few.
func (d *Dashboard) userByID(ctx context.Context, id int64) (store.User, error) {
	us, err := d.team.Users(ctx)
	if err != nil {
		return store.User{}, err
	}
	for _, u := range us {
		if u.ID == id {
			return u, nil
		}
	}
	return store.User{}, fmt.Errorf("user %d: %w", id, store.ErrNotFound)
}

// Drain turns readiness false: the server is about to stop.
func (d *Dashboard) Drain() { d.draining.Store(true) }

// Handler returns the dashboard's route table.
func (d *Dashboard) Handler() http.Handler {
	r := mux.NewRouter()
	r.StrictSlash(true)
	// Every page but sign-in needs a signed-in user; every form, its token.
	get := func(path string, h handlerFunc) {
		r.Handle(path, d.signedIn(d.html(h))).Methods(http.MethodGet, http.MethodHead)
	}
	file := func(path string, h http.HandlerFunc) {
		r.Handle(path, d.signedIn(h)).Methods(http.MethodGet, http.MethodHead)
	}
	post := func(path string, h http.HandlerFunc) {
		r.Handle(path, d.signedIn(d.checkCSRF(h))).Methods(http.MethodPost)
	}

	r.Handle("/healthz", d.json(func(*http.Request) (any, error) { return map[string]string{"status": "ok"}, nil })).
		Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/readyz", d.readyz).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		d.renderLogin(w, r, http.StatusOK, loginData{Next: safeNext(r.URL.Query().Get("next"))})
	}).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/login", d.login).Methods(http.MethodPost)
	post("/logout", d.logout)

	get("/", d.overviewPage)
	get("/users/{name}", d.userPage)
	post("/users/{name}/leaderboard", d.setLeaderboard)
	get("/usage", d.usagePage)
	file("/usage.csv", d.usageCSV)
	get("/leaderboard", d.leaderboardPage)
	r.Handle("/admin/users", d.signedIn(d.adminOnly(d.html(d.adminPage)))).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/admin/users", d.signedIn(d.adminOnly(d.checkCSRF(http.HandlerFunc(d.adminCreate))))).Methods(http.MethodPost)
	r.Handle("/admin/users/{name}/{action:key|revoke|share|password}",
		d.signedIn(d.adminOnly(d.checkCSRF(http.HandlerFunc(d.adminAction))))).Methods(http.MethodPost)

	// The replay UI's pages, which read only what the viewer may (scope.go).
	get("/sessions", d.sessionsPage)
	get("/sessions/{id:[^/.]+}", d.replayPage)
	file("/sessions/{id:[^/.]+}.md", d.exportMarkdown)
	file("/sessions/{id:[^/.]+}.jsonl", d.exportJSONL)
	get("/sessions/{id:[^/.]+}/todos", d.todosPage)
	get("/sessions/{id}/tools/{tool}", d.toolPage)
	file("/sessions/{id}/steps", d.replaySteps)
	get("/search", d.searchPage)
	get("/plans", d.plansPage)
	get("/plans/{slug}", d.planPage)

	r.PathPrefix("/static/").Handler(http.StripPrefix("/static/", staticFiles()))
	r.NotFoundHandler = d.signedIn(d.html(func(*http.Request) (page, error) {
		return page{}, notFound("no such page")
	}))
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	})
	return d.secure(d.recoverPanics(r))
}

// readyz answers 200 while the database answers and the server is not
// stopping, else 503.
func (d *Dashboard) readyz(w http.ResponseWriter, r *http.Request) {
	d.ready(w, r, d.draining.Load(), d.team)
}

// sessionCookie holds a signed-in browser's token; loginCookie, the token
// the sign-in form carries before there is a session.
const (
	sessionCookie = "insights_session"
	loginCookie   = "insights_login"
)

// signIn is what a request's session cookie gives: the token its forms
// carry.
type signIn struct {
	csrf      string
	tokenHash []byte
}

type signInKey struct{}

// signedIn lets a request through with the user its session cookie signs
// in; without one, a page asks to sign in and anything else is a 401.
func (d *Dashboard) signedIn(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(sessionCookie)
		var ws store.WebSession
		var u store.User
		if err == nil && c.Value != "" {
			h := sha256.Sum256([]byte(c.Value))
			ws, u, err = d.team.WebSession(r.Context(), h[:])
		}
		if err == nil && !u.RevokedAt.IsZero() {
			err = store.ErrNotFound
		}
		switch {
		case errors.Is(err, http.ErrNoCookie) || errors.Is(err, store.ErrNotFound) || err == nil && c.Value == "":
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			http.Error(w, "not signed in, or the sign-in expired: sign in again at /login", http.StatusUnauthorized)
			return
		case err != nil:
			d.writeHTMLError(w, r, err)
			return
		}
		only, err := userParam(r, d.team, u)
		if err != nil {
			d.writeHTMLError(w, r, err)
			return
		}
		r = withViewer(r, u, only)
		r = r.WithContext(context.WithValue(r.Context(), signInKey{}, signIn{csrf: ws.CSRF, tokenHash: ws.TokenHash}))
		next.ServeHTTP(w, r)
	})
}

// checkCSRF refuses a form that does not carry its session's token.
func (d *Dashboard) checkCSRF(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		want := csrfOf(r)
		if want == "" || subtle.ConstantTimeCompare([]byte(r.PostFormValue("csrf")), []byte(want)) != 1 {
			d.writeHTMLError(w, r, forbidden("the form's CSRF token is missing or wrong: reload the page and try again"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// csrfOf is the token a signed-in request's forms carry.
func csrfOf(r *http.Request) string {
	si, _ := r.Context().Value(signInKey{}).(signIn)
	return si.csrf
}

// writeHTMLError answers with the error page.
func (d *Dashboard) writeHTMLError(w http.ResponseWriter, r *http.Request, err error) {
	d.html(func(*http.Request) (page, error) { return page{}, err }).ServeHTTP(w, r)
}

// teamNav is what the dashboard's pages show of who is signed in.
type teamNav struct {
	User  string
	Admin bool
	CSRF  string
}

// decorate adds the signed-in user to a page.
func (d *Dashboard) decorate(r *http.Request, p *page) {
	u, ok := viewerOf(r)
	if !ok {
		p.Team = &teamNav{}
		return
	}
	si, _ := r.Context().Value(signInKey{}).(signIn)
	p.Team = &teamNav{User: u.Name, Admin: u.Admin, CSRF: si.csrf}
}

// userParam reads the user parameter: whose sessions an admin reads (a
// member may name only themselves).
func userParam(r *http.Request, team store.Team, u store.User) (int64, error) {
	name := strings.TrimSpace(r.URL.Query().Get("user"))
	switch {
	case name == "" || name == u.Name:
		if u.Admin && name == "" {
			return 0, nil
		}
		return u.ID, nil
	case !u.Admin:
		return 0, forbidden("user=%s: a member reads only their own sessions", name)
	}
	other, err := team.UserByName(r.Context(), name)
	if errors.Is(err, store.ErrNotFound) {
		return 0, notFound("user=%s: no such user", name)
	}
	return other.ID, err
}
