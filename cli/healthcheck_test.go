package cli

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
)

// The health check passes on a 2xx only, and names the URL and the status
// or error otherwise.
func TestHealthcheck(t *testing.T) {
	isolate(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/healthz":
			w.Write([]byte(`{"status":"ok"}`))
		case "/down":
			http.Error(w, "down", http.StatusServiceUnavailable)
		case "/moved":
			http.Redirect(w, r, "/healthz", http.StatusFound)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	closed := "http://" + freeAddr(t) + "/healthz"

	for _, tc := range []struct {
		name, url string
		want      []string // in the error; nil: no error
	}{
		{"ok", srv.URL + "/healthz", nil},
		{"unavailable", srv.URL + "/down", []string{srv.URL + "/down", "503"}},
		{"redirect not followed", srv.URL + "/moved", []string{srv.URL + "/moved", "302"}},
		{"closed port", closed, []string{closed, "refused"}},
		{"not a URL", "127.0.0.1:8080/healthz", []string{"127.0.0.1:8080/healthz", "http://"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := run(t, "healthcheck", tc.url)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("healthcheck %s: %v", tc.url, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("healthcheck %s passed", tc.url)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is more than one line: %q", err)
			}
		})
	}
}

// Without an argument the URL comes from INSIGHTS_HEALTHCHECK_URL; no config
// or database is opened, so neither a missing config file nor an unreachable
// database fails the check.
func TestHealthcheckEnvironmentNoConfig(t *testing.T) {
	isolate(t)
	up := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer up.Close()
	t.Setenv(envHealthURL, up.URL+"/healthz")
	t.Setenv("INSIGHTS_CONFIG", filepath.Join(t.TempDir(), "missing.toml"))
	t.Setenv("INSIGHTS_DB", "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=1")
	t.Setenv("INSIGHTS_MODE", "team")
	if _, err := run(t, "healthcheck"); err != nil {
		t.Fatalf("healthcheck with %s=%s: %v", envHealthURL, up.URL+"/healthz", err)
	}
	closed := "http://" + freeAddr(t) + "/healthz"
	t.Setenv(envHealthURL, closed)
	if _, err := run(t, "healthcheck"); err == nil || !strings.Contains(err.Error(), closed) {
		t.Errorf("healthcheck with %s=%s: err = %v, want one naming it", envHealthURL, closed, err)
	}
	if _, err := run(t, "healthcheck", up.URL, up.URL); err == nil {
		t.Error("healthcheck took two URLs")
	}
}
