package cli

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/claude-insights/insights/store"
	"github.com/claude-insights/insights/store/postgres"
)

// Two servers on one database at once, one in this process and one in a
// process of its own: uploads of the same files through both land once,
// a sign-in made on one opens the other's dashboard, and the aggregate
// repair runs on one server at a time.
func TestTeamReplicas(t *testing.T) {
	isolate(t)
	ctx := context.Background()
	dsn := teamDSN(t)
	a := startTeam(t, dsn, nil)
	bob, bobKey := a.newUser(t, "bob", false, store.ShareFull)
	cat, catKey := a.newUser(t, "cat", false, store.ShareFull)
	apiB, dashB := freeAddr(t), freeAddr(t)
	startChild(t, childConfig(t, dsn, apiB, dashB), "http://"+apiB)

	bobTree, catTree := genTree(t, 2<<20, 51), genTree(t, 1<<20, 52)
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	conflicts := make([]int, 3)
	for i, up := range []struct {
		base, key, dir string
	}{{a.URL, bobKey, bobTree}, {"http://" + apiB, bobKey, bobTree}, {"http://" + apiB, catKey, catTree}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			u := &uploader{base: up.base, key: up.key, chunk: 16 << 10, gzip: i%2 == 0}
			rels := transcriptsOf(t, up.dir)
			if i == 1 { // the other way round, to meet the first uploader
				for l, r := 0, len(rels)-1; l < r; l, r = l+1, r-1 {
					rels[l], rels[r] = rels[r], rels[l]
				}
			}
			for _, rel := range rels {
				if err := u.pushFile(up.dir, rel, func(error) bool { return false }); err != nil {
					errs <- err
					return
				}
			}
			conflicts[i] = u.conflicts
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if conflicts[0]+conflicts[1] == 0 {
		t.Error("the two uploaders of bob's files never met on one file: the test proves nothing")
	}
	t.Logf("bob's uploaders met %d times", conflicts[0]+conflicts[1])
	want, wantDays := soloTotals(t, bobTree)
	equalSolo(t, "bob, through both servers", a.DB, bob.ID, want, wantDays)
	want, wantDays = soloTotals(t, catTree)
	equalSolo(t, "cat, through the second server", a.DB, cat.ID, want, wantDays)

	// A sign-in is the database's: made on one server, good on the other
	// and ended on both by signing out on either.
	c := newBrowserClient(t, a.Dashboard)
	if code, _, _ := c.login("bob", bobKey); code != http.StatusSeeOther {
		t.Fatalf("sign in on the first server: %d", code)
	}
	other := newBrowserClient(t, "http://"+dashB)
	other.csrf = c.csrf
	if err := copyCookies(c, other); err != nil {
		t.Fatal(err)
	}
	other.get("/", http.StatusOK)
	if code, _, _ := other.post("/logout", nil); code != http.StatusSeeOther {
		t.Errorf("sign out on the second server: %d", code)
	}
	if code, _, _ := c.do(http.MethodGet, "/", nil); code != http.StatusSeeOther {
		t.Errorf("signed out on one server, still signed in on the other: %d", code)
	}

	// The repair: one server at a time, and it changes nothing that is right.
	unlock, ok, err := a.DB.TryLock(ctx, repairLock)
	if err != nil || !ok {
		t.Fatalf("take the repair lock: %v %v", ok, err)
	}
	second, err := postgres.Open(ctx, dsn, postgres.Options{MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	e := &env{log: slog.New(slog.DiscardHandler)}
	if repairOnce(ctx, e, second) {
		t.Error("the repair ran while another server held its lock")
	}
	unlock()
	if !repairOnce(ctx, e, second) {
		t.Error("the repair did not run once the lock was free")
	}
	equalSolo(t, "cat, after the repair", a.DB, cat.ID, want, wantDays)
}

// copyCookies gives one client the other's cookies, as if the same browser
// reached another server behind the same name.
func copyCookies(from, to *browserClient) error {
	src, err := http.NewRequest(http.MethodGet, from.base, nil)
	if err != nil {
		return err
	}
	dst, err := http.NewRequest(http.MethodGet, to.base, nil)
	if err != nil {
		return err
	}
	to.c.Jar.SetCookies(dst.URL, from.c.Jar.Cookies(src.URL))
	return nil
}

// Stopping: /readyz answers 503 at once on both ports while the server
// still serves; an upload under way when the listeners close finishes and
// is stored.
func TestTeamGracefulStop(t *testing.T) {
	isolate(t)
	ts := startTeam(t, teamDSN(t), nil)
	_, key := ts.newUser(t, "bob", false, store.ShareFull)
	dir := genTree(t, 64<<10, 61)
	rel := transcriptsOf(t, dir)[0]
	data, err := os.ReadFile(filepath.Join(dir, rel))
	if err != nil {
		t.Fatal(err)
	}
	half := strings.LastIndexByte(string(data[:len(data)/2]), '\n') + 1

	pr, pw := io.Pipe()
	req, err := http.NewRequest(http.MethodPost, ts.URL+"/api/v1/uploads?file=f1&path="+rel+"&offset=0", pr)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	type answer struct {
		code int
		body string
		err  error
	}
	answered := make(chan answer, 1)
	go func() {
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			answered <- answer{err: err}
			return
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		answered <- answer{code: res.StatusCode, body: string(b)}
	}()
	if _, err := pw.Write(data[:half]); err != nil {
		t.Fatal(err)
	}

	const delay = 400 * time.Millisecond
	stopped := make(chan struct{})
	go func() { ts.shutdown(delay); close(stopped) }()
	status := func(url string) int {
		res, err := http.Get(url)
		if err != nil {
			return 0
		}
		res.Body.Close()
		return res.StatusCode
	}
	waitFor(t, 5*time.Second, "/readyz to answer 503", func() bool { return status(ts.URL+"/readyz") == http.StatusServiceUnavailable })
	if got := status(ts.Dashboard + "/readyz"); got != http.StatusServiceUnavailable {
		t.Errorf("the dashboard's /readyz while stopping: %d, want 503", got)
	}
	if got := status(ts.URL + "/healthz"); got != http.StatusOK {
		t.Errorf("/healthz while stopping: %d, want 200 (still serving)", got)
	}
	// Past the delay the listeners close; the upload under way goes on.
	time.Sleep(delay + 200*time.Millisecond)
	if got := status(ts.URL + "/healthz"); got != 0 {
		t.Errorf("a new request after the listeners closed: %d, want none", got)
	}
	if _, err := pw.Write(data[half:]); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	ans := <-answered
	if ans.err != nil || ans.code != http.StatusOK || !strings.Contains(ans.body, `"offset":`+strconv.Itoa(len(data))) {
		t.Fatalf("the upload under way: %d %v %s", ans.code, ans.err, ans.body)
	}
	<-stopped
	if n := pgCount(t, ts.DSN, `SELECT "offset" FROM ingest_files`); n != int64(len(data)) {
		t.Errorf("stored offset %d after the stop, want %d", n, len(data))
	}
}
