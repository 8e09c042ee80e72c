package cli

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

// The daemon's usage page and /api/usage show what `insights usage` prints
// for the same options.
func TestUsageUIMatchesCommand(t *testing.T) {
	isolate(t)
	db := filepath.Join(t.TempDir(), "insights.db")
	if _, err := run(t, "--db", db, "import", testdataDir); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args  []string
		query string
	}{
		{[]string{"daily"}, ""},
		{[]string{"daily", "--since", "2026-02-10", "--until", "20260301", "-z", "America/Los_Angeles"},
			"?since=2026-02-10&until=20260301&tz=America/Los_Angeles"},
		{[]string{"weekly", "--project", "app"}, "?period=weekly&project=app"},
		{[]string{"monthly", "--timezone", "Asia/Tokyo"}, "?period=monthly&tz=Asia/Tokyo"},
		{[]string{"session", "--since", "2026-02-11"}, "?period=session&since=2026-02-11"},
	}
	var printed []string
	for _, c := range cases {
		out, err := run(t, append([]string{"--db", db, "usage"}, append(c.args, "--json")...)...)
		if err != nil {
			t.Fatalf("usage %v: %v", c.args, err)
		}
		printed = append(printed, out)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	startDaemon(t, "--db", db, "--claude-dir", testdataDir, "--ui-addr", addr)
	fetch := func(path string) (int, string) {
		res, err := http.Get("http://" + addr + path)
		if err != nil {
			return 0, err.Error()
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	waitFor(t, 20*time.Second, "the UI to answer", func() bool { code, _ := fetch("/api/stats"); return code == 200 })
	for i, c := range cases {
		code, body := fetch("/api/usage" + c.query)
		if code != 200 || body != printed[i] {
			t.Errorf("GET /api/usage%s: %d\n%s\nwant what `insights usage %v --json` prints:\n%s", c.query, code, body, c.args, printed[i])
		}
	}

	// Each day's cost on the page is the one the command prints.
	days := decodeUsage(t, "daily", printed[1])
	if len(days.Rows) == 0 {
		t.Fatal("no days with usage in the fixtures")
	}
	_, page := fetch("/usage" + cases[1].query)
	for _, d := range days.Rows {
		re := regexp.MustCompile(`<tr class="day" data-day="` + d.Date + `">(?s:.*?)<td class="num day-cost">([^<]*)</td>`)
		m := re.FindStringSubmatch(page)
		if want := fmt.Sprintf("$%.2f", d.TotalCost); m == nil || m[1] != want {
			t.Errorf("the usage page shows %s costing %v; the command prints %s", d.Date, m, want)
		}
	}
}
