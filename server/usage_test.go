package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/claude-insights/insights/report"
	"github.com/claude-insights/insights/store"
)

var barDay = regexp.MustCompile(`<rect class="bar" data-day="([0-9-]+)"`)

func TestUsagePage(t *testing.T) {
	db := openSQLite(t)
	importTrees(t, db, trees...)
	ts := serve(t, db)
	ctx := context.Background()
	for _, tc := range []struct {
		query string
		opt   report.Options
	}{
		{"", report.Options{}},
		{"?since=2026-02-11&until=2026-03-31", report.Options{Since: date(t, "2026-02-11"), Until: date(t, "2026-03-31")}},
		{"?tz=Pacific/Auckland&project=app", report.Options{Location: zone(t, "Pacific/Auckland"), Project: "app"}},
	} {
		opt := tc.opt
		opt.Period = report.Daily
		if opt.Location == nil {
			opt.Location = time.UTC
		}
		want, err := report.Usage(ctx, db, opt)
		if err != nil {
			t.Fatal(err)
		}
		if len(want.Rows) == 0 {
			t.Fatalf("%s: the fixtures have no usage", tc.query)
		}
		code, body, _ := get(t, ts, "/usage"+tc.query)
		if code != 200 {
			t.Fatalf("GET /usage%s: %d\n%s", tc.query, code, body)
		}
		var days, wantDays []string
		for _, m := range barDay.FindAllStringSubmatch(body, -1) {
			days = append(days, m[1])
		}
		for _, row := range want.Rows {
			wantDays = append(wantDays, row.Key)
			// The day's row shows the report's cost, as the CLI's table does.
			if cell := fmt.Sprintf(`data-day="%s"><td>%s</td>`, row.Key, row.Key); !strings.Contains(body, cell) {
				t.Errorf("%s: no table row for %s", tc.query, row.Key)
			}
			if c := dayCost(body, row.Key); c != fmt.Sprintf("$%.2f", row.Cost) {
				t.Errorf("%s: %s costs %q on the page, %.6f in the report", tc.query, row.Key, c, row.Cost)
			}
		}
		if !slices.Equal(days, wantDays) {
			t.Errorf("%s: bars for %v, want one per day with usage: %v", tc.query, days, wantDays)
		}
		for _, h := range []string{"Per model", "Per project", "Top sessions by cost", "Who spent it", "Per day", `class="grid"`, `class="xlabel"`} {
			if !strings.Contains(body, h) {
				t.Errorf("%s: the page lacks %q", tc.query, h)
			}
		}
		if !strings.Contains(body, `href="/sessions/`) {
			t.Errorf("%s: no link to a session", tc.query)
		}
	}
	_, body, _ := get(t, ts, "/usage")
	if !strings.Contains(body, `href="/sessions/`+sessApp+`"`) || !strings.Contains(body, "Subagent <b>Explore</b>") ||
		!strings.Contains(body, "MCP server <b>") {
		t.Errorf("the usage page lacks the app session, the Explore subagent or an MCP server")
	}
	// The <script> of the XSS fixture's project stays text.
	if strings.Contains(body, "<script>") {
		t.Errorf("the usage page carries a script")
	}
}

// dayCost is the cost cell of a day's row in the daily table.
func dayCost(body, day string) string {
	i := strings.Index(body, `<tr class="day" data-day="`+day+`">`)
	if i < 0 {
		return ""
	}
	row := body[i:]
	row = row[:strings.Index(row, "</tr>")]
	m := regexp.MustCompile(`<td class="num day-cost">([^<]*)</td>`).FindStringSubmatch(row)
	if m == nil {
		return ""
	}
	return m[1]
}

func TestUsagePageLimitsSessions(t *testing.T) {
	ts := newServer(t)
	_, body, _ := get(t, ts, "/usage?sessions=1")
	if n := strings.Count(body, `class="session-link"`); n != 1 {
		t.Errorf("sessions=1 lists %d sessions", n)
	}
	if !strings.Contains(body, `Show more sessions`) || !strings.Contains(body, `sessions=26`) {
		t.Errorf("sessions=1 offers no link to more")
	}
	_, body, _ = get(t, ts, "/usage")
	if strings.Contains(body, `Show more sessions`) {
		t.Errorf("every session is listed, yet the page offers more")
	}
}

func TestUsagePageEmpty(t *testing.T) {
	ts := serve(t, openSQLite(t))
	code, body, _ := get(t, ts, "/usage")
	if code != 200 || !strings.Contains(body, "No usage yet") || strings.Contains(body, `class="bar"`) {
		t.Errorf("empty database: %d\n%s", code, body)
	}
	ts = newServer(t)
	code, body, _ = get(t, ts, "/usage?since=2030-01-01")
	if code != 200 || !strings.Contains(body, "No usage in this range") {
		t.Errorf("range without usage: %d\n%s", code, body)
	}
}

func TestUsageBadParameters(t *testing.T) {
	ts := newServer(t)
	for _, tc := range []struct{ path, msg string }{
		{"/usage?since=2026-13-01", `since=&#34;2026-13-01&#34;: want a date`},
		{"/usage?until=yesterday", `until=&#34;yesterday&#34;: want a date`},
		{"/usage?tz=Mars/Olympus", `tz=&#34;Mars/Olympus&#34;: not a time zone`},
		{"/usage?since=2026-02-11&until=2026-02-10", "until=2026-02-10 is before since=2026-02-11"},
		{"/usage?sessions=-1", "sessions="},
		{"/api/usage?since=2026-02-30", `since=\"2026-02-30\": want a date`},
		{"/api/usage?tz=Nowhere", `tz=\"Nowhere\": not a time zone`},
		{"/api/usage?period=hourly", `period=\"hourly\": want daily, weekly, monthly or session`},
	} {
		code, body, h := get(t, ts, tc.path)
		if code != 400 || !strings.Contains(body, tc.msg) {
			t.Errorf("GET %s: %d, want 400 saying %s\n%s", tc.path, code, tc.msg, body)
		}
		if strings.HasPrefix(tc.path, "/api/") && h.Get("Content-Type") != "application/json" {
			t.Errorf("GET %s: Content-Type %q", tc.path, h.Get("Content-Type"))
		}
	}
}

// usageCases are the options /api/usage is compared with the report on.
var usageCases = []struct {
	query string
	opt   report.Options
}{
	{"", report.Options{}},
	{"?period=weekly", report.Options{Period: report.Weekly}},
	{"?period=monthly&tz=America/New_York", report.Options{Period: report.Monthly, Location: mustZone("America/New_York")}},
	{"?period=session&project=app", report.Options{Period: report.Session, Project: "app"}},
	{"?period=daily&since=20260211&until=2026-03-01&tz=Asia/Kolkata",
		report.Options{Since: time.Date(2026, 2, 11, 0, 0, 0, 0, mustZone("Asia/Kolkata")),
			Until: time.Date(2026, 3, 1, 0, 0, 0, 0, mustZone("Asia/Kolkata")), Location: mustZone("Asia/Kolkata")}},
	{"?since=2030-01-01", report.Options{Since: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}},
}

// apiUsageBodies checks that /api/usage answers, for each case, exactly
// what the report writes, and returns the bodies.
func apiUsageBodies(t *testing.T, db store.Driver) []string {
	t.Helper()
	ts := serve(t, db)
	var bodies []string
	for _, tc := range usageCases {
		opt := tc.opt
		if opt.Period == "" {
			opt.Period = report.Daily
		}
		if opt.Location == nil {
			opt.Location = time.UTC
		}
		r, err := report.Usage(context.Background(), db, opt)
		if err != nil {
			t.Fatal(err)
		}
		var want bytes.Buffer
		if err := r.WriteJSON(&want, opt.Location); err != nil {
			t.Fatal(err)
		}
		code, body, h := get(t, ts, "/api/usage"+tc.query)
		if code != 200 || h.Get("Content-Type") != "application/json" {
			t.Fatalf("GET /api/usage%s: %d %s\n%s", tc.query, code, h.Get("Content-Type"), body)
		}
		if body != want.String() {
			t.Errorf("GET /api/usage%s =\n%s\nwant what the report writes:\n%s", tc.query, body, want.String())
		}
		bodies = append(bodies, body)
	}
	return bodies
}

func TestAPIUsage(t *testing.T) {
	sq := openSQLite(t)
	importTrees(t, sq, trees...)
	lite := apiUsageBodies(t, sq)
	pg := openPostgres(t)
	importTrees(t, pg, trees...)
	for i, body := range apiUsageBodies(t, pg) {
		if body != lite[i] {
			t.Errorf("GET /api/usage%s on PostgreSQL =\n%s\non SQLite =\n%s", usageCases[i].query, body, lite[i])
		}
	}
}

// The page's "who spent it" sums, read in the database, equal report.SpentBy
// summed over every session of the range.
func TestSpentSumsEqualSpentBy(t *testing.T) {
	for name, open := range map[string]func(testing.TB) store.Driver{"sqlite": openSQLite, "postgres": openPostgres} {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			importTrees(t, db, trees...)
			for _, opt := range []report.Options{
				{Location: time.UTC},
				{Location: time.UTC, Since: date(t, "2026-02-11"), Until: date(t, "2026-02-11")},
				{Location: time.UTC, Project: "app"},
			} {
				got, err := report.SpentSums(context.Background(), db, opt)
				if err != nil {
					t.Fatal(err)
				}
				want := spentBySessions(t, db, opt)
				if g, w := spentText(got), spentText(want); g != w {
					t.Errorf("%+v: SpentSums =\n%s\nSpentBy summed =\n%s", opt, g, w)
				}
			}
		})
	}
}

func spentBySessions(t *testing.T, db store.Driver, opt report.Options) []store.SpentSum {
	t.Helper()
	ctx := context.Background()
	opt.Period, opt.SpentBy = report.Session, true
	r, err := report.Usage(ctx, db, opt)
	if err != nil {
		t.Fatal(err)
	}
	sums := map[[2]string]*store.SpentSum{}
	for _, row := range r.Rows {
		for _, sh := range row.SpentBy {
			name := sh.Name
			if sh.By == report.BySubagent || sh.By == report.ByMain {
				name = sh.Type
			}
			k := [2]string{sh.By, name}
			s, ok := sums[k]
			if !ok {
				s = &store.SpentSum{By: sh.By, Name: name}
				sums[k] = s
			}
			s.Tokens.Add(sh.Tokens)
			s.Cost += sh.Cost
			s.Unpriced += sh.Unpriced
			s.Replies += sh.Replies
			s.Sessions++
		}
	}
	var out []store.SpentSum
	for _, s := range sums {
		out = append(out, *s)
	}
	return out
}

func spentText(ss []store.SpentSum) string {
	var lines []string
	for _, s := range ss {
		lines = append(lines, fmt.Sprintf("%s %q %+v cost=%.6f unpriced=%d replies=%d sessions=%d",
			s.By, s.Name, s.Tokens, s.Cost, s.Unpriced, s.Replies, s.Sessions))
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

func TestAPIStats(t *testing.T) {
	for name, open := range map[string]func(testing.TB) store.Driver{"sqlite": openSQLite, "postgres": openPostgres} {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			importTrees(t, db, trees...)
			testAPIStats(t, db)
		})
	}
}

func testAPIStats(t *testing.T, db store.Driver) {
	ctx := context.Background()
	var got struct {
		Sessions, Messages, ToolCalls, ToolErrors, Subagents int64
		Projects                                             int
		Tokens                                               struct{ Input, Output, CacheWrite5m, CacheWrite1h, CacheRead, Total int64 }
		Cost                                                 float64
		FirstActivity, LastActivity                          time.Time
		TopTools                                             []struct {
			Name          string
			Calls, Errors int64
		}
	}
	code, body, _ := get(t, serve(t, db), "/api/stats?tools=3")
	if code != 200 {
		t.Fatalf("GET /api/stats: %d\n%s", code, body)
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	// The expectations, from each session on its own.
	list, err := db.Sessions(ctx, store.SessionQuery{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	var msgs, calls, errs, subs int64
	var tok store.Tokens
	var cost float64
	var first, last time.Time
	projects := map[string]bool{}
	tools := map[string][2]int64{}
	for _, s := range list.Sessions {
		msgs += s.Messages
		subs += s.Subagents
		tok.Add(s.Tokens)
		cost += s.Cost
		projects[s.Project] = true
		if first.IsZero() || s.FirstAt.Before(first) {
			first = s.FirstAt
		}
		if s.LastAt.After(last) {
			last = s.LastAt
		}
		cs, err := db.ToolCalls(ctx, s.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cs {
			calls++
			n := tools[c.Name]
			n[0]++
			if c.Result != nil && c.Result.IsError {
				n[1]++
				errs++
			}
			tools[c.Name] = n
		}
	}
	if got.Sessions != list.Total || got.Sessions != 5 || got.Messages != msgs || got.ToolCalls != calls ||
		got.ToolErrors != errs || errs == 0 || got.Subagents != subs || subs == 0 || got.Projects != len(projects) {
		t.Errorf("stats = %+v\nwant %d sessions, %d messages, %d tool calls, %d errors, %d subagents, %d projects",
			got, list.Total, msgs, calls, errs, subs, len(projects))
	}
	if got.Tokens.Input != tok.Input || got.Tokens.Output != tok.Output || got.Tokens.CacheRead != tok.CacheRead ||
		got.Tokens.CacheWrite5m+got.Tokens.CacheWrite1h != tok.CacheWrite() || got.Tokens.Total != tok.Total() ||
		math.Abs(got.Cost-cost) > 1e-6 {
		t.Errorf("stats tokens %+v, cost %f; want %+v, %f", got.Tokens, got.Cost, tok, cost)
	}
	if !got.FirstActivity.Equal(first) || !got.LastActivity.Equal(last) {
		t.Errorf("activity %s to %s, want %s to %s", got.FirstActivity, got.LastActivity, first, last)
	}
	if len(got.TopTools) != 3 {
		t.Fatalf("top tools = %+v, want 3", got.TopTools)
	}
	for i, tl := range got.TopTools {
		n := tools[tl.Name]
		if tl.Calls != n[0] || tl.Errors != n[1] {
			t.Errorf("tool %s: %d calls, %d errors; want %d, %d", tl.Name, tl.Calls, tl.Errors, n[0], n[1])
		}
		for name, m := range tools {
			if m[0] > tl.Calls && !slices.ContainsFunc(got.TopTools[:i], func(x struct {
				Name          string
				Calls, Errors int64
			}) bool {
				return x.Name == name
			}) {
				t.Errorf("tool %s (%d calls) is called more than top tool %s", name, m[0], tl.Name)
			}
		}
	}
}

func date(t *testing.T, s string) time.Time {
	t.Helper()
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func zone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}
