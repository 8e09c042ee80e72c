package server_test

import (
	"net/url"
	"testing"
)

// TestAPIsAgreeAcrossDrivers asks the plans, history and todos APIs the same
// questions over SQLite and PostgreSQL and wants the same answers, byte for
// byte.
func TestAPIsAgreeAcrossDrivers(t *testing.T) {
	dirs := append(trees, historyTree(t))
	lite, pg := openSQLite(t), openPostgres(t)
	importTrees(t, lite, dirs...)
	importTrees(t, pg, dirs...)
	a, b := serve(t, lite), serve(t, pg)
	for _, path := range []string{
		"/api/plans", "/api/plans?limit=1&offset=1", "/api/plans/some-slug", "/api/plans/xss-plan", "/api/plans/nope",
		"/api/history", "/api/history?limit=5&offset=58", "/api/history?q=LOAD", "/api/history?q=" + url.QueryEscape("100%"),
		"/api/history?q=_", "/api/history?q=%25&project=bulk", "/api/history?project=app", "/api/history?session=" + sessApp,
		"/api/history?q=" + url.QueryEscape("<script>"), "/api/history?limit=x",
		"/api/sessions/" + sessApp + "/todos", "/api/sessions/" + sessXSS + "/todos", "/api/sessions/nope/todos",
	} {
		codeA, bodyA, _ := get(t, a, path)
		codeB, bodyB, _ := get(t, b, path)
		if codeA != codeB || bodyA != bodyB {
			t.Errorf("GET %s:\nSQLite     %d %s\nPostgreSQL %d %s", path, codeA, bodyA, codeB, bodyB)
		}
	}
	for _, path := range []string{"/sessions/" + sessApp + ".md", "/sessions/" + sessApp + ".jsonl"} {
		_, bodyA, _ := get(t, a, path)
		_, bodyB, _ := get(t, b, path)
		if bodyA != bodyB {
			t.Errorf("GET %s differs between SQLite and PostgreSQL", path)
		}
	}
}
