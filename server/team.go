package server

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gorilla/mux"

	"github.com/claude-insights/insights/store"
)

// TeamOptions configure the team API.
type TeamOptions struct {
	Log *slog.Logger
	// PublicURL is where users reach the API, named in its OpenAPI document;
	// empty is the address each request came to.
	PublicURL string
	// MaxUpload is the largest upload body in bytes, as sent and once
	// decompressed (default 32 MiB).
	MaxUpload int64
	// RateLimit is the requests per second one key may make on average,
	// RateBurst how many at once; 0 is no limit.
	RateLimit float64
	RateBurst int
	// Upload imports an uploaded range (ingest.Uploader.Import, given
	// by the caller so that the server does not import ingest).
	Upload func(ctx context.Context, up store.Upload) (store.UploadResult, error)
}

// TeamAPI serves the team server's API: uploads, and the solo API's
// handlers scoped to the user whose key a request carries.
type TeamAPI struct {
	*Server
	team    store.Team
	opts    TeamOptions
	metrics *metrics
	limits  *limiter
	// draining is set when the server is stopping (see Drain).
	draining atomic.Bool
}

// Drain turns readiness false: the server is about to stop, and a load
// balancer should send it no more requests.
func (t *TeamAPI) Drain() { t.draining.Store(true) }

// NewTeam returns the team API over db and the team's users.
func NewTeam(db store.Driver, team store.Team, opts TeamOptions) (*TeamAPI, error) {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.MaxUpload <= 0 {
		opts.MaxUpload = 32 << 20
	}
	if opts.Upload == nil {
		return nil, errors.New("team API: no upload function")
	}
	srv, err := New(db, Options{Location: time.UTC, Log: opts.Log})
	if err != nil {
		return nil, err
	}
	return &TeamAPI{Server: srv, team: team, opts: opts, metrics: newMetrics(),
		limits: newLimiter(opts.RateLimit, opts.RateBurst)}, nil
}

// Handler returns the whole route table of the team API.
func (t *TeamAPI) Handler() http.Handler {
	r := mux.NewRouter()
	r.Use(routeNamer)
	// A member reads through the solo API's handlers, which scope what they
	// list to the viewer (scope.go).
	get := func(path string, h apiFunc) {
		r.Handle(path, t.auth(t.json(h))).Methods(http.MethodGet, http.MethodHead)
	}
	admin := func(path string, h apiFunc) {
		r.Handle(path, t.auth(t.adminOnly(t.json(h)))).Methods(http.MethodGet, http.MethodHead)
	}
	open := func(path string, h http.Handler) { r.Handle(path, h).Methods(http.MethodGet, http.MethodHead) }

	open("/healthz", t.json(t.healthz))
	open("/readyz", http.HandlerFunc(t.readyz))
	open("/metrics", t.metrics.handler())
	open("/api/v1/openapi.json", http.HandlerFunc(t.openAPI))

	r.Handle("/api/v1/uploads", t.auth(http.HandlerFunc(t.upload))).Methods(http.MethodPost)
	get("/api/v1/sessions", t.apiSessions)
	get("/api/v1/sessions/{id}", t.apiSession)
	get("/api/v1/sessions/{id}/messages", t.apiMessages)
	get("/api/v1/search", t.apiSearch)
	r.Handle("/api/v1/usage", t.auth(t.jsonWriter(t.apiUsage))).Methods(http.MethodGet, http.MethodHead)
	get("/api/v1/me", t.me)
	get("/api/v1/team/stats", t.teamStats)
	admin("/api/v1/users", t.users)

	r.NotFoundHandler = t.json(func(r *http.Request) (any, error) {
		return nil, notFound("no such route: %s (GET /api/v1/openapi.json lists them)", r.URL.Path)
	})
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.writeJSON(w, r, http.StatusMethodNotAllowed, map[string]string{"error": "method " + r.Method + " not allowed here"})
	})
	return t.metrics.instrument(t.log, t.secure(t.recoverPanics(r)))
}

// Key errors: each is a 401.
var (
	errNoKey      = &httpError{Status: http.StatusUnauthorized, Msg: "missing API key: send the header \"Authorization: Bearer\" and your key"}
	errWrongKey   = &httpError{Status: http.StatusUnauthorized, Msg: "unknown API key"}
	errRevokedKey = &httpError{Status: http.StatusUnauthorized, Msg: "this API key was revoked: ask an admin for a new one"}
)

// auth lets a request through with the user whose key it carries, within
// the key's rate limit.
func (t *TeamAPI) auth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, err := t.user(r)
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="insights"`)
			t.writeError(w, r, err)
			return
		}
		if wait, ok := t.limits.allow(u.ID); !ok {
			w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
			t.writeJSON(w, r, http.StatusTooManyRequests, map[string]string{
				"error": fmt.Sprintf("too many requests: at most %g a second with this key; retry after %s", t.opts.RateLimit, wait.Round(time.Millisecond))})
			return
		}
		only, err := userParam(r, t.team, u)
		if err != nil {
			t.writeError(w, r, err)
			return
		}
		next.ServeHTTP(w, withViewer(r, u, only))
	})
}

// user finds the user of a request's key.
func (t *TeamAPI) user(r *http.Request) (store.User, error) {
	h := r.Header.Get("Authorization")
	scheme, key, ok := strings.Cut(h, " ")
	if h == "" || !ok || !strings.EqualFold(scheme, "Bearer") {
		return store.User{}, errNoKey
	}
	key = strings.TrimSpace(key)
	if !strings.HasPrefix(key, store.APIKeyPrefix) || len(key) > 200 {
		return store.User{}, errWrongKey
	}
	u, err := t.team.UserByKey(r.Context(), key)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return u, errWrongKey
	case err != nil:
		return u, err
	case !u.RevokedAt.IsZero():
		return u, errRevokedKey
	}
	return u, nil
}

func (t *TeamAPI) adminOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, _ := viewerOf(r); !u.Admin {
			t.writeError(w, r, forbidden("only admins may do this"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (t *TeamAPI) healthz(*http.Request) (any, error) {
	return map[string]string{"status": "ok"}, nil
}

// readyz answers 200 while the database answers and the server is not
// stopping, else 503.
func (t *TeamAPI) readyz(w http.ResponseWriter, r *http.Request) {
	t.ready(w, r, t.draining.Load(), t.team)
}

// ready answers a readiness probe of a team server: 503 while it is
// stopping or its database does not answer, else 200.
func (s *responder) ready(w http.ResponseWriter, r *http.Request, draining bool, team store.Team) {
	if draining {
		s.writeJSON(w, r, http.StatusServiceUnavailable, map[string]string{"error": "stopping"})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := team.Ping(ctx); err != nil {
		s.log.Warn("not ready", "err", err)
		s.writeJSON(w, r, http.StatusServiceUnavailable, map[string]string{"error": "the database does not answer"})
		return
	}
	s.writeJSON(w, r, http.StatusOK, map[string]string{"status": "ready"})
}

// upload is POST /api/v1/uploads?file=ID&path=REL&offset=N[&end=M]: the
// body holds the file's bytes from offset on, as NDJSON lines,
// gzip-compressed if Content-Encoding says so; with end, it holds the
// client's rewriting of the whole lines from offset to end.
func (t *TeamAPI) upload(w http.ResponseWriter, r *http.Request) {
	u, _ := viewerOf(r)
	q := r.URL.Query()
	offset, err := strconv.ParseInt(q.Get("offset"), 10, 64)
	if err != nil || offset < 0 {
		t.metrics.upload("rejected", nil)
		t.writeError(w, r, badRequest("offset=%q: want the byte offset in the file that the body starts at", q.Get("offset")))
		return
	}
	var end int64
	if v := q.Get("end"); v != "" {
		if end, err = strconv.ParseInt(v, 10, 64); err != nil || end <= 0 {
			t.metrics.upload("rejected", nil)
			t.writeError(w, r, badRequest("end=%q: want the byte offset in the file that the body's lines end at", v))
			return
		}
	}
	body, err := t.readBody(w, r)
	if err != nil {
		t.metrics.upload("rejected", nil)
		t.writeError(w, r, err)
		return
	}
	res, err := t.opts.Upload(r.Context(), store.Upload{User: u, FileID: q.Get("file"), Path: q.Get("path"), Offset: offset, End: end, Body: body})
	var conflict *store.UploadConflict
	switch {
	case errors.As(err, &conflict):
		t.metrics.upload("conflict", nil)
		t.writeJSON(w, r, http.StatusConflict, map[string]any{"error": conflict.Msg, "offset": conflict.Offset})
	case err != nil:
		t.metrics.upload("rejected", nil)
		t.writeError(w, r, err)
	case res.Duplicate:
		t.metrics.upload("duplicate", &res)
		t.writeJSON(w, r, http.StatusOK, res)
	default:
		t.metrics.upload("stored", &res)
		t.writeJSON(w, r, http.StatusOK, res)
	}
}

// readBody reads an upload's body, decompressed, refusing one past the
// limit with a 413.
func (t *TeamAPI) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	limit := t.opts.MaxUpload
	tooLarge := &httpError{Status: http.StatusRequestEntityTooLarge,
		Msg: fmt.Sprintf("upload too large: at most %d MiB a request, as sent and decompressed; send the file in smaller ranges", limit>>20)}
	if r.ContentLength > limit {
		return nil, tooLarge
	}
	var in io.Reader = http.MaxBytesReader(w, r.Body, limit)
	switch enc := strings.ToLower(r.Header.Get("Content-Encoding")); enc {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(in)
		if err != nil {
			return nil, badRequest("Content-Encoding gzip: the body is not gzip (%v)", err)
		}
		in = zr
	default:
		return nil, &httpError{Status: http.StatusUnsupportedMediaType, Msg: fmt.Sprintf("Content-Encoding %q: send gzip or nothing", enc)}
	}
	body, err := io.ReadAll(io.LimitReader(in, limit+1))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return nil, tooLarge
	case err != nil && r.Header.Get("Content-Encoding") != "":
		return nil, badRequest("the gzip body is broken: %v", err)
	case err != nil:
		return nil, badRequest("the body could not be read: %v", err)
	case int64(len(body)) > limit:
		return nil, tooLarge
	}
	return body, nil
}

type apiMe struct {
	Name      string     `json:"name"`
	Email     string     `json:"email"`
	Role      string     `json:"role"`
	Share     string     `json:"shareLevel"`
	KeyPrefix string     `json:"keyPrefix"`
	KeyMadeAt *time.Time `json:"keyCreatedAt"`
	CreatedAt *time.Time `json:"createdAt"`
}

func toAPIMe(u store.User) apiMe {
	return apiMe{Name: u.Name, Email: u.Email, Role: u.Role(), Share: string(u.Share), KeyPrefix: u.KeyPrefix,
		KeyMadeAt: timePtr(u.KeyCreatedAt), CreatedAt: timePtr(u.CreatedAt)}
}

// me is GET /api/v1/me: the user whose key the request carries.
func (t *TeamAPI) me(r *http.Request) (any, error) {
	u, _ := viewerOf(r)
	return toAPIMe(u), nil
}

type apiUser struct {
	apiMe
	Revoked *time.Time `json:"revokedAt"`
}

// users is GET /api/v1/users (admins): every user.
func (t *TeamAPI) users(r *http.Request) (any, error) {
	us, err := t.team.Users(r.Context())
	if err != nil {
		return nil, err
	}
	out := []apiUser{}
	for _, u := range us {
		out = append(out, apiUser{apiMe: toAPIMe(u), Revoked: timePtr(u.RevokedAt)})
	}
	return map[string]any{"users": out}, nil
}
