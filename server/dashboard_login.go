package server

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/time/rate"

	"github.com/claude-insights/insights/store"
)

// newToken returns 256 random bits, URL-safe.
func newToken() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

// secureCookies says whether cookies must be sent over HTTPS only: the
// request came over TLS, or through a proxy that ended it, or the public
// URL is https.
func (d *Dashboard) secureCookies(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") ||
		strings.HasPrefix(d.opts.PublicURL, "https://")
}

type loginData struct {
	Name    string
	Next    string
	Token   string
	Message string
}

// renderLogin answers with the sign-in form and a new form token.
func (d *Dashboard) renderLogin(w http.ResponseWriter, r *http.Request, status int, data loginData) {
	data.Token = newToken()
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: data.Token, Path: "/login", MaxAge: 3600,
		HttpOnly: true, Secure: d.secureCookies(r), SameSite: http.SameSiteStrictMode})
	d.html(func(*http.Request) (page, error) {
		return page{Template: "team_login", Title: "Sign in", Data: data, Status: status}, nil
	}).ServeHTTP(w, r)
}

// login is POST /login: name and password (or API key). Failures are
// counted per client address and per name; past the limit, the client
// waits.
func (d *Dashboard) login(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimSpace(r.PostFormValue("name"))
	secret := r.PostFormValue("password")
	data := loginData{Name: name, Next: safeNext(r.PostFormValue("next"))}
	c, err := r.Cookie(loginCookie)
	if err != nil || c.Value == "" || subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostFormValue("csrf"))) != 1 {
		data.Message = "The sign-in form expired or did not come from this server: please try again."
		d.renderLogin(w, r, http.StatusForbidden, data)
		return
	}
	ip := clientIP(r)
	if wait, ok := d.logins.check(ip, name); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
		data.Message = fmt.Sprintf("Too many failed sign-ins: try again in %s.", wait.Round(time.Second))
		d.renderLogin(w, r, http.StatusTooManyRequests, data)
		return
	}
	if name == "" || secret == "" {
		data.Message = "Enter your user name, and your password or API key."
		d.renderLogin(w, r, http.StatusBadRequest, data)
		return
	}
	u, err := d.authenticate(r, name, secret)
	var he *httpError
	switch {
	case errors.As(err, &he):
		d.logins.fail(ip, name)
		d.opts.Log.Info("sign-in refused", "user", name, "addr", ip, "why", he.Msg)
		data.Message = he.Msg
		d.renderLogin(w, r, he.Status, data)
		return
	case err != nil:
		d.writeHTMLError(w, r, err)
		return
	}
	token, csrf := newToken(), newToken()
	h := sha256.Sum256([]byte(token))
	now := d.opts.Now()
	ws := store.WebSession{TokenHash: h[:], UserID: u.ID, CSRF: csrf, ExpiresAt: now.Add(d.opts.SessionTTL)}
	if err := d.team.AddWebSession(r.Context(), ws); err != nil {
		d.writeHTMLError(w, r, err)
		return
	}
	d.logins.succeed(name)
	secure := d.secureCookies(r)
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: "", Path: "/login", MaxAge: -1, HttpOnly: true, Secure: secure,
		SameSite: http.SameSiteStrictMode})
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: token, Path: "/", Expires: ws.ExpiresAt,
		MaxAge: int(d.opts.SessionTTL.Seconds()), HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode})
	d.opts.Log.Info("signed in", "user", u.Name, "addr", ip)
	http.Redirect(w, r, data.Next, http.StatusSeeOther)
}

var errBadLogin = &httpError{Status: http.StatusUnauthorized, Msg: "Wrong user name, password or API key."}

// authenticate checks a name with a password, or with the user's API key.
func (d *Dashboard) authenticate(r *http.Request, name, secret string) (store.User, error) {
	if strings.HasPrefix(secret, store.APIKeyPrefix) {
		u, err := d.team.UserByKey(r.Context(), secret)
		switch {
		case errors.Is(err, store.ErrNotFound) || err == nil && u.Name != name:
			return u, errBadLogin
		case err != nil:
			return u, err
		case !u.RevokedAt.IsZero():
			return u, &httpError{Status: http.StatusForbidden, Msg: "This user's access was revoked: ask an admin."}
		}
		return u, nil
	}
	u, hash, err := d.team.PasswordHash(r.Context(), name)
	if errors.Is(err, store.ErrNotFound) || err == nil && hash == "" {
		// As long as a real check, so that the time says nothing of names.
		bcrypt.CompareHashAndPassword(dummyHash, []byte(secret))
		return u, errBadLogin
	}
	if err != nil {
		return u, err
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(secret)) != nil {
		return u, errBadLogin
	}
	if !u.RevokedAt.IsZero() {
		return u, &httpError{Status: http.StatusForbidden, Msg: "This user's access was revoked: ask an admin."}
	}
	return u, nil
}

// dummyHash is compared with when a user has no password.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("no password set"), bcrypt.DefaultCost)

// HashPassword returns a password's bcrypt hash, refusing one too short
// to resist guessing or too long for bcrypt.
func HashPassword(pw string) (string, error) {
	if n := len([]rune(pw)); n < 12 {
		return "", &store.InputError{Msg: fmt.Sprintf("a password needs 12 characters or more (this one has %d)", n)}
	}
	if len(pw) > 72 {
		return "", &store.InputError{Msg: "a password may have at most 72 bytes"}
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.DefaultCost)
	return string(h), err
}

// logout is POST /logout: the session ends, here and in the database.
func (d *Dashboard) logout(w http.ResponseWriter, r *http.Request) {
	si, _ := r.Context().Value(signInKey{}).(signIn)
	if err := d.team.DeleteWebSession(r.Context(), si.tokenHash); err != nil {
		d.writeHTMLError(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: d.secureCookies(r), SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// safeNext keeps a page to go to after signing in only if it is on this
// server.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") ||
		strings.HasPrefix(next, "/login") {
		return "/"
	}
	return next
}

// clientIP is the address a request came from.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// ipFactor is how many more failures an address may make than a name.
const ipFactor = 10

// loginLimiter counts failed sign-ins per client address and per name: a
// bucket of n refills over window.
type loginLimiter struct {
	n      int
	window time.Duration
	now    func() time.Time
	mu     sync.Mutex
	keys   map[string]*rate.Limiter
}

func newLoginLimiter(n int, window time.Duration, now func() time.Time) *loginLimiter {
	return &loginLimiter{n: n, window: window, now: now, keys: map[string]*rate.Limiter{}}
}

// bucket returns a key's bucket: a name's holds n failures, an address's
// ipFactor times more (a whole office may sign in from one address).
func (l *loginLimiter) bucket(key string) *rate.Limiter {
	b, ok := l.keys[key]
	if !ok {
		if len(l.keys) > 100_000 { // a flood of names: start again rather than grow
			l.keys = map[string]*rate.Limiter{}
		}
		n := l.n
		if strings.HasPrefix(key, "ip ") {
			n *= ipFactor
		}
		b = rate.NewLimiter(rate.Every(l.window/time.Duration(n)), n)
		l.keys[key] = b
	}
	return b
}

// check says whether a client may try to sign in as name, and if not,
// how long until it may.
func (l *loginLimiter) check(ip, name string) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	var wait time.Duration
	for _, k := range []string{"ip " + ip, "name " + name} {
		b := l.bucket(k)
		if b.TokensAt(now) < 1 {
			r := b.ReserveN(now, 1)
			wait = max(wait, r.DelayFrom(now))
			r.CancelAt(now)
		}
	}
	return wait, wait == 0
}

// fail counts a failed sign-in.
func (l *loginLimiter) fail(ip, name string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.bucket("ip "+ip).AllowN(now, 1)
	l.bucket("name "+name).AllowN(now, 1)
}

// succeed forgets a name's failures.
func (l *loginLimiter) succeed(name string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.keys, "name "+name)
}
