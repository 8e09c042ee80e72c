package cli

import (
	"context"
	"encoding/csv"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/claude-insights/insights/server"
	"github.com/claude-insights/insights/store"
	"github.com/claude-insights/insights/synth"
)

// genRecent writes a synthetic Claude directory whose sessions start in the
// last days days, so that the dashboard's default period shows them.
func genRecent(t testing.TB, size int64, seed uint64, days int) string {
	t.Helper()
	dir := t.TempDir()
	today := time.Now().UTC().Truncate(24 * time.Hour)
	if _, err := synth.Generate(dir, synth.Options{Size: size, Seed: seed, Broken: true, Start: today.AddDate(0, 0, 1-days), Days: days}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// pushTree uploads every transcript of a tree with a user's key.
func (ts *teamServer) pushTree(t testing.TB, dir, key string) {
	t.Helper()
	up := &uploader{base: ts.URL, key: key, chunk: 256 << 10}
	for _, rel := range transcriptsOf(t, dir) {
		if err := up.pushFile(dir, rel, func(error) bool { return false }); err != nil {
			t.Fatal(err)
		}
	}
}

// browserClient is a client with cookies that does not follow redirects.
type browserClient struct {
	t    *testing.T
	base string
	c    *http.Client
	csrf string // the signed-in pages' form token
}

func newBrowserClient(t *testing.T, base string) *browserClient {
	jar, _ := cookiejar.New(nil)
	return &browserClient{t: t, base: base, c: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// do makes a request and returns the status, the body and the answer.
func (b *browserClient) do(method, path string, form url.Values, header ...string) (int, string, *http.Response) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.base+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if m := csrfField.FindSubmatch(data); m != nil && path != "/login" {
		b.csrf = string(m[1])
	}
	return res.StatusCode, string(data), res
}

// get fetches a page and fails unless it answers want.
func (b *browserClient) get(path string, want int) string {
	b.t.Helper()
	code, body, res := b.do(http.MethodGet, path, nil)
	if code != want {
		b.t.Fatalf("GET %s = %d (Location %q), want %d: %.400s", path, code, res.Header.Get("Location"), want, body)
	}
	return body
}

// post sends a form with the page's CSRF token.
func (b *browserClient) post(path string, form url.Values) (int, string, *http.Response) {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf", b.csrf)
	return b.do(http.MethodPost, path, form)
}

// submitLogin fills in the sign-in form, with the page to go to next, and
// sends it with the headers given.
func (b *browserClient) submitLogin(name, secret, next string, header ...string) (int, string, *http.Response) {
	b.t.Helper()
	_, page, _ := b.do(http.MethodGet, "/login", nil)
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		b.t.Fatalf("the sign-in form has no token: %s", page)
	}
	return b.do(http.MethodPost, "/login", url.Values{"csrf": {m[1]}, "name": {name}, "password": {secret}, "next": {next}}, header...)
}

// login signs in with a name and a password or key, and returns the
// status and the page.
func (b *browserClient) login(name, secret string) (int, string, *http.Response) {
	b.t.Helper()
	code, body, res := b.submitLogin(name, secret, "/")
	if code == http.StatusSeeOther {
		b.get("/", http.StatusOK) // the page's form token
	}
	return code, body, res
}

// sessionIDs lists the sessions a sessions page links to.
func sessionIDs(page string) []string {
	var ids []string
	for _, m := range regexp.MustCompile(`data-session="([^"]+)"`).FindAllStringSubmatch(page, -1) {
		ids = append(ids, m[1])
	}
	return ids
}

// The dashboard's pages for each role: a member sees their own sessions,
// usage and page and the team's aggregates; an admin sees everyone's and
// manages users; every form needs its token; sign-ins expire and end.
func TestDashboardRoles(t *testing.T) {
	isolate(t)
	ctx := context.Background()
	ts := startTeam(t, teamDSN(t), nil)
	ts.newUser(t, "ann", true, store.ShareFull)
	bob, bobKey := ts.newUser(t, "bob", false, store.ShareFull)
	cat, catKey := ts.newUser(t, "cat", false, store.ShareFull)
	ts.pushTree(t, genRecent(t, 400<<10, 31, 20), bobKey)
	ts.pushTree(t, genRecent(t, 400<<10, 32, 20), catKey)
	hash, err := server.HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ts.DB.SetPassword(ctx, "ann", hash); err != nil {
		t.Fatal(err)
	}
	ownSessions := func(u store.User) []string {
		l, err := ts.DB.Sessions(ctx, store.SessionQuery{UserID: u.ID, Limit: 500})
		if err != nil || len(l.Sessions) == 0 {
			t.Fatalf("sessions of %s: %d, %v", u.Name, len(l.Sessions), err)
		}
		var ids []string
		for _, s := range l.Sessions {
			ids = append(ids, s.ID)
		}
		return ids
	}
	bobs, cats := ownSessions(bob), ownSessions(cat)

	// Signed out: pages send to the sign-in form, forms are refused.
	anon := newBrowserClient(t, ts.Dashboard)
	if code, _, res := anon.do(http.MethodGet, "/usage?by=model", nil); code != http.StatusSeeOther ||
		res.Header.Get("Location") != "/login?next=%2Fusage%3Fby%3Dmodel" {
		t.Errorf("signed out, /usage = %d to %q", code, res.Header.Get("Location"))
	}
	for _, p := range []string{"/sessions/" + bobs[0], "/usage.csv", "/admin/users", "/users/bob", "/leaderboard"} {
		if code, _, _ := anon.do(http.MethodGet, p, nil); code != http.StatusSeeOther {
			t.Errorf("signed out, %s = %d, want 303", p, code)
		}
	}
	if code, _, _ := anon.do(http.MethodPost, "/logout", url.Values{}); code != http.StatusUnauthorized {
		t.Errorf("signed out, POST /logout = %d, want 401", code)
	}
	anon.get("/healthz", http.StatusOK)
	anon.get("/readyz", http.StatusOK)
	anon.get("/static/app.css", http.StatusOK)

	// Wrong secrets, and a form that did not come from the server.
	for _, c := range []struct{ name, secret string }{{"bob", "wrong password!"}, {"ann", bobKey}, {"nobody", "x"}, {"bob", "ins_forged"}} {
		if code, body, _ := anon.login(c.name, c.secret); code != http.StatusUnauthorized || !strings.Contains(body, "Wrong user name") {
			t.Errorf("sign in as %s with a wrong secret: %d", c.name, code)
		}
	}
	if code, _, _ := anon.do(http.MethodPost, "/login", url.Values{"name": {"bob"}, "password": {bobKey}}); code != http.StatusForbidden {
		t.Errorf("a sign-in without the form's token: %d, want 403", code)
	}
	// After signing in, only a page of this server: never another site.
	for next, want := range map[string]string{"//evil.example/x": "/", "https://evil.example": "/", "/\\evil.example": "/",
		"/usage?by=model": "/usage?by=model"} {
		_, _, res := newBrowserClient(t, ts.Dashboard).submitLogin("bob", bobKey, next)
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != want {
			t.Errorf("sign in with next=%s: %d to %q, want %q", next, res.StatusCode, res.Header.Get("Location"), want)
		}
	}

	// A member signs in with their key.
	member := newBrowserClient(t, ts.Dashboard)
	code, _, res := member.login("bob", bobKey)
	if code != http.StatusSeeOther || res.Header.Get("Location") != "/" {
		t.Fatalf("bob signs in: %d to %q", code, res.Header.Get("Location"))
	}
	var cookie *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == "insights_session" {
			cookie = c
		}
	}
	if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode || cookie.Path != "/" || cookie.Secure ||
		cookie.MaxAge != int((12*time.Hour).Seconds()) {
		t.Errorf("session cookie = %+v: want HttpOnly, SameSite=Lax, Path=/, 12h, not Secure over http", cookie)
	}
	overview := member.get("/", http.StatusOK)
	for _, want := range []string{`data-series="you"`, `data-series="rest of the team"`, "Model mix", "Busiest hours", "rect class=\"cell\""} {
		if !strings.Contains(overview, want) {
			t.Errorf("bob's overview lacks %q", want)
		}
	}
	if strings.Contains(overview, `data-series="cat"`) {
		t.Error("bob's overview names cat's part of the days")
	}
	page := member.get("/sessions", http.StatusOK)
	if got := sessionIDs(page); len(got) == 0 || slices.ContainsFunc(got, func(id string) bool { return slices.Contains(cats, id) }) {
		t.Errorf("bob's session list: %d sessions, cat's among them: %v", len(got), got)
	}
	// The filters offer the member's projects, counting their sessions only.
	var listed int
	for _, m := range regexp.MustCompile(`<option value="/[^"]*"[^>]*>[^<]*\((\d+)\)</option>`).FindAllStringSubmatch(page, -1) {
		n, _ := strconv.Atoi(m[1])
		listed += n
	}
	if listed != len(bobs) {
		t.Errorf("bob's project filter counts %d sessions, he has %d (cat %d)", listed, len(bobs), len(cats))
	}
	member.get("/sessions/"+bobs[0], http.StatusOK)
	for _, p := range []string{"/sessions/" + cats[0], "/sessions/" + cats[0] + ".jsonl", "/sessions/" + cats[0] + ".md",
		"/sessions/" + cats[0] + "/todos", "/users/cat", "/admin/users", "/sessions?user=cat"} {
		member.get(p, http.StatusForbidden)
	}
	calls, err := ts.DB.ToolCalls(ctx, cats[0])
	if err != nil || len(calls) == 0 {
		t.Fatalf("cat's first session has %d tool calls (%v)", len(calls), err)
	}
	member.get("/sessions/"+cats[0]+"/tools/"+calls[0].ID, http.StatusForbidden)
	// Search finds only the member's own messages.
	hits := regexp.MustCompile(`class="hit-link" href="/sessions/([^"?#/]+)`).FindAllStringSubmatch(member.get("/search?q=the", http.StatusOK), -1)
	if len(hits) == 0 {
		t.Error("bob's search for \"the\" found nothing")
	}
	for _, h := range hits {
		if !slices.Contains(bobs, h[1]) {
			t.Errorf("bob's search found a message of session %s, not his", h[1])
		}
	}
	member.get("/users/bob", http.StatusOK)
	member.get("/leaderboard", http.StatusOK)
	member.get("/plans", http.StatusOK)
	member.get("/search?q=the", http.StatusOK)
	csvBody := member.get("/usage.csv?by=user", http.StatusOK)
	rows, err := csv.NewReader(strings.NewReader(csvBody)).ReadAll()
	if err != nil || len(rows) != 2 || rows[1][0] != "bob" {
		t.Fatalf("bob's usage by user: %v %v", rows, err)
	}
	want, err := ts.DB.UsageBy(ctx, store.StatsQuery{UserID: bob.ID}, store.GroupUser)
	if err != nil || len(want) != 1 || rows[1][7] != strconv.FormatInt(want[0].Tokens.Total(), 10) {
		t.Errorf("bob's CSV tokens %v, the store's %+v (%v)", rows[1], want, err)
	}
	// Forms need the token: without it, 403 and nothing changes.
	if code, _, _ := member.do(http.MethodPost, "/users/bob/leaderboard", url.Values{"show": {"0"}}); code != http.StatusForbidden {
		t.Errorf("a form without its token: %d, want 403", code)
	}
	if code, _, _ := member.do(http.MethodPost, "/users/bob/leaderboard", url.Values{"show": {"0"}, "csrf": {"forged"}}); code != http.StatusForbidden {
		t.Errorf("a form with a wrong token: %d, want 403", code)
	}
	if u, _ := ts.DB.UserByName(ctx, "bob"); !u.Leaderboard {
		t.Fatal("a refused form changed the leaderboard")
	}
	if code, _, _ := member.post("/admin/users", url.Values{"name": {"eve"}, "share": {"full"}}); code != http.StatusForbidden {
		t.Errorf("a member adds a user: %d, want 403", code)
	}
	if code, _, _ := member.post("/users/bob/leaderboard", url.Values{"show": {"0"}}); code != http.StatusSeeOther {
		t.Errorf("bob leaves the leaderboard: %d", code)
	}

	// An admin signs in with a password and sees everyone.
	admin := newBrowserClient(t, ts.Dashboard)
	if code, _, _ := admin.login("ann", "correct horse battery"); code != http.StatusSeeOther {
		t.Fatalf("ann signs in with her password: %d", code)
	}
	overview = admin.get("/?days=30", http.StatusOK)
	for _, want := range []string{`data-series="bob"`, `data-series="cat"`, `href="/admin/users"`} {
		if !strings.Contains(overview, want) {
			t.Errorf("ann's overview lacks %q", want)
		}
	}
	all := sessionIDs(admin.get("/sessions", http.StatusOK))
	if !slices.Contains(all, bobs[0]) || !slices.Contains(all, cats[0]) {
		t.Errorf("ann's session list lacks bob's or cat's")
	}
	if got := sessionIDs(admin.get("/sessions?user=cat", http.StatusOK)); len(got) == 0 || slices.Contains(got, bobs[0]) {
		t.Errorf("ann's list of cat's sessions: %v", got)
	}
	if page := admin.get("/sessions/"+cats[0], http.StatusOK); !strings.Contains(page, `Uploaded by <a href="/users/cat">cat</a>.`) {
		t.Error("the replay does not name who uploaded the session")
	}
	if _, err := ts.DB.SetShare(ctx, "cat", store.ShareMetadata); err != nil {
		t.Fatal(err)
	}
	if page := admin.get("/sessions/"+cats[0], http.StatusOK); !strings.Contains(page, "who shares metadata only") {
		t.Error("the replay of a member who shares metadata does not say what is not kept")
	}
	admin.get("/users/cat", http.StatusOK)
	board := admin.get("/leaderboard", http.StatusOK)
	if strings.Contains(board, "<td>bob</td>") || !strings.Contains(board, "<td>cat</td>") || !strings.Contains(board, "1 user(s) chose not to be ranked") {
		t.Errorf("the leaderboard ranks bob, who left it, or not cat: %s", board)
	}
	rows, err = csv.NewReader(strings.NewReader(admin.get("/usage.csv?by=user&days=30", http.StatusOK))).ReadAll()
	if err != nil || len(rows) != 3 {
		t.Fatalf("ann's usage by user: %v %v", rows, err)
	}
	for _, c := range []struct{ path, msg string }{
		{"/?days=abc", "days="}, {"/usage?by=colour", "by="}, {"/?days=0", "days=0"},
	} {
		if code, body, _ := admin.do(http.MethodGet, c.path, nil); code != http.StatusBadRequest || !strings.Contains(body, c.msg) {
			t.Errorf("GET %s = %d, want 400 naming %q", c.path, code, c.msg)
		}
	}
	admin.get("/users/nobody", http.StatusNotFound)
	admin.get("/sessions/nosuchsession", http.StatusNotFound)
	admin.get("/sessions?user=nobody", http.StatusNotFound)

	// Admin pages: add a user, who signs in with the key shown once; revoke
	// them, and their sign-in ends.
	admin.get("/admin/users", http.StatusOK)
	code, body, _ := admin.post("/admin/users", url.Values{"name": {"dan"}, "share": {"metadata"}})
	key := regexp.MustCompile(`<code class="key">(ins_[a-z2-7]+)</code>`).FindStringSubmatch(body)
	if code != http.StatusOK || key == nil {
		t.Fatalf("add dan: %d, no key shown", code)
	}
	if u, err := ts.DB.UserByName(ctx, "dan"); err != nil || u.Share != store.ShareMetadata || u.Admin {
		t.Errorf("dan = %+v, %v", u, err)
	}
	for _, c := range []struct {
		form url.Values
		code int
		msg  string
	}{
		{url.Values{"name": {"dan"}, "share": {"full"}}, http.StatusConflict, "exists already"},
		{url.Values{"name": {"a b"}, "share": {"full"}}, http.StatusBadRequest, "letters, digits"},
		{url.Values{"name": {"eve"}, "share": {"most"}}, http.StatusBadRequest, "share level"},
	} {
		if code, body, _ := admin.post("/admin/users", c.form); code != c.code || !strings.Contains(body, c.msg) {
			t.Errorf("add %v: %d, want %d naming %q", c.form, code, c.code, c.msg)
		}
	}
	if code, body, _ := admin.post("/admin/users/dan/password", url.Values{"password": {"short"}}); code != http.StatusBadRequest || !strings.Contains(body, "12 characters") {
		t.Errorf("a short password: %d", code)
	}
	dan := newBrowserClient(t, ts.Dashboard)
	if code, _, _ := dan.login("dan", key[1]); code != http.StatusSeeOther {
		t.Fatalf("dan signs in with the new key: %d", code)
	}
	if code, _, _ := admin.post("/admin/users/dan/share", url.Values{"share": {"none"}}); code != http.StatusSeeOther {
		t.Errorf("set dan's share level: %d", code)
	}
	if code, _, _ := admin.post("/admin/users/dan/revoke", nil); code != http.StatusSeeOther {
		t.Errorf("revoke dan: %d", code)
	}
	if u, _ := ts.DB.UserByName(ctx, "dan"); u.Share != store.ShareNone || u.RevokedAt.IsZero() {
		t.Errorf("dan after the admin's forms: %+v", u)
	}
	if code, _, _ := dan.do(http.MethodGet, "/", nil); code != http.StatusSeeOther {
		t.Errorf("a revoked user's sign-in still opens pages: %d", code)
	}
	if code, body, _ := dan.login("dan", key[1]); code != http.StatusForbidden || !strings.Contains(body, "revoked") {
		t.Errorf("a revoked user signs in: %d", code)
	}
	code, body, _ = admin.post("/admin/users/dan/key", nil)
	if newKey := regexp.MustCompile(`<code class="key">(ins_[a-z2-7]+)</code>`).FindStringSubmatch(body); code != http.StatusOK || newKey == nil || newKey[1] == key[1] {
		t.Errorf("a new key for dan: %d", code)
	}
	if code, _, _ := admin.post("/admin/users/nobody/revoke", nil); code != http.StatusNotFound {
		t.Errorf("revoke nobody: %d, want 404", code)
	}

	// A sign-in expires; signing out ends it at once, also for a copy of
	// the cookie.
	if _, err := ts.DB.SetPassword(ctx, "cat", hash); err != nil {
		t.Fatal(err)
	}
	catClient := newBrowserClient(t, ts.Dashboard)
	if code, _, _ := catClient.login("cat", "correct horse battery"); code != http.StatusSeeOther {
		t.Fatalf("cat signs in: %d", code)
	}
	if n := pgCount(t, ts.DSN, `WITH x AS (UPDATE web_sessions SET expires_at = now() - interval '1 second'
		WHERE user_id = $1 RETURNING 1) SELECT count(*) FROM x`, cat.ID); n != 1 {
		t.Fatalf("%d sessions of cat expired, want 1", n)
	}
	if code, _, res := catClient.do(http.MethodGet, "/", nil); code != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/login") {
		t.Errorf("an expired sign-in: %d", code)
	}
	copied := newBrowserClient(t, ts.Dashboard)
	u, _ := url.Parse(ts.Dashboard)
	copied.c.Jar.SetCookies(u, member.c.Jar.Cookies(u))
	copied.get("/", http.StatusOK)
	if code, _, res := member.post("/logout", nil); code != http.StatusSeeOther || res.Header.Get("Location") != "/login" {
		t.Errorf("sign out: %d", code)
	}
	if code, _, _ := copied.do(http.MethodGet, "/", nil); code != http.StatusSeeOther {
		t.Errorf("a copy of a signed-out cookie still opens pages: %d", code)
	}

	// Stopping: readiness turns false first, health stays.
	ts.srv.api.Drain()
	ts.srv.dash.Drain()
	anon.get("/readyz", http.StatusServiceUnavailable)
	anon.get("/healthz", http.StatusOK)
	if code, _, _ := anon.do(http.MethodGet, "/readyz", nil); code != http.StatusServiceUnavailable {
		t.Error("the dashboard is ready while stopping")
	}
}

// Failed sign-ins are limited per client and name; behind an HTTPS proxy
// the cookie is Secure.
func TestDashboardLoginLimit(t *testing.T) {
	isolate(t)
	ts := startTeam(t, teamDSN(t), nil)
	_, key := ts.newUser(t, "bob", false, store.ShareFull)
	c := newBrowserClient(t, ts.Dashboard)
	for i := range 5 {
		if code, _, _ := c.login("bob", "wrong password "+strconv.Itoa(i)); code != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d, want 401", i+1, code)
		}
	}
	code, body, res := c.login("bob", key)
	if code != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" || !strings.Contains(body, "Too many failed sign-ins") {
		t.Errorf("the 6th sign-in, with the right key: %d, Retry-After %q", code, res.Header.Get("Retry-After"))
	}

	ts2 := startTeam(t, teamDSN(t), nil)
	_, key2 := ts2.newUser(t, "bob", false, store.ShareFull)
	_, _, res = newBrowserClient(t, ts2.Dashboard).submitLogin("bob", key2, "/", "X-Forwarded-Proto", "https")
	secure := false
	for _, ck := range res.Cookies() {
		if ck.Name == "insights_session" {
			secure = ck.Secure
		}
	}
	if res.StatusCode != http.StatusSeeOther || !secure {
		t.Errorf("behind an HTTPS proxy: %d, Secure %v", res.StatusCode, secure)
	}
}

// One address may fail for many names, but not without end.
func TestDashboardLoginLimitPerAddress(t *testing.T) {
	isolate(t)
	ts := startTeam(t, teamDSN(t), nil)
	_, key := ts.newUser(t, "bob", false, store.ShareFull)
	c := newBrowserClient(t, ts.Dashboard)
	for i := range 50 {
		if code, _, _ := c.login("user"+strconv.Itoa(i), "wrong password"); code != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d, want 401", i+1, code)
		}
	}
	if code, _, _ := c.login("bob", key); code != http.StatusTooManyRequests {
		t.Errorf("after 50 failures from one address: %d, want 429", code)
	}
}
