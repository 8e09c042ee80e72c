package server

import (
	"cmp"
	"encoding/csv"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/mux"

	"github.com/claude-insights/insights/server/chart"
	"github.com/claude-insights/insights/store"
)

// The periods a dashboard page offers, in days; the default is 30.
var periods = []int{7, 30, 90, 365}

// stackedUsers is how many users a chart stacks by name; the others are
// summed as one.
const stackedUsers = 9

// period is the UTC days a page shows: from Since to Until (exclusive).
type period struct {
	Days         int
	Since, Until time.Time
}

// Last is the last day shown.
func (p period) Last() time.Time { return p.Until.AddDate(0, 0, -1) }

// Labels lists every day of the period.
func (p period) Labels() []string {
	var out []string
	for d := p.Since; d.Before(p.Until); d = d.AddDate(0, 0, 1) {
		out = append(out, d.Format(time.DateOnly))
	}
	return out
}

// periodOf reads days= (1 to 3660; default 30), ending today (UTC).
func (d *Dashboard) periodOf(r *http.Request) (period, error) {
	n, err := intParam(r, "days", 30, 3660)
	if err != nil {
		return period{}, err
	}
	if n == 0 {
		return period{}, badRequest("days=0: want 1 or more")
	}
	now := d.opts.Now().UTC()
	until := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, 1)
	return period{Days: n, Since: until.AddDate(0, 0, -n), Until: until}, nil
}

func (p period) query(user int64) store.StatsQuery {
	return store.StatsQuery{Since: p.Since, Until: p.Until, UserID: user}
}

// kpis are the totals of some days.
type kpis struct {
	Users      int
	Sessions   int64
	Messages   int64
	Tokens     int64
	Cost       float64
	ToolCalls  int64
	ToolErrors int64
}

func sumKPIs(days []store.DailyStat) kpis {
	var k kpis
	users := map[int64]bool{}
	for _, d := range days {
		users[d.UserID] = true
		k.Sessions += d.Sessions
		k.Messages += d.Messages
		k.Tokens += d.Tokens.Total()
		k.Cost = store.RoundCost(k.Cost + d.Cost)
		k.ToolCalls += d.ToolCalls
		k.ToolErrors += d.ToolErrors
	}
	k.Users = len(users)
	return k
}

// change is a number this week against last week.
type change struct {
	Name  string
	This  string
	Last  string
	Delta string // "+12%", "-3%", "±0%", "new" or ""
	// Better and Worse say whether the change is good (more activity, a
	// lower cost or error rate) or not.
	Better, Worse bool
}

func compare(name string, this, last float64, format func(float64) string, lowerIsBetter bool) change {
	c := change{Name: name, This: format(this), Last: format(last)}
	up := this >= last
	switch {
	case last == 0 && this == 0:
	case last == 0:
		c.Delta = "new"
	default:
		c.Delta = fmt.Sprintf("%+.0f%%", (this-last)/last*100)
	}
	if c.Delta == "+0%" || c.Delta == "-0%" {
		c.Delta = "±0%"
		return c
	}
	c.Better = c.Delta != "" && up != lowerIsBetter
	c.Worse = c.Delta != "" && up == lowerIsBetter
	return c
}

func weekChanges(this, last kpis) []change {
	n := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	tok := func(v float64) string { return tokens(int64(v)) }
	usd := func(v float64) string { return fmt.Sprintf("$%.2f", v) }
	rate := func(k kpis) float64 {
		if k.ToolCalls == 0 {
			return 0
		}
		return float64(k.ToolErrors) / float64(k.ToolCalls) * 100
	}
	pct := func(v float64) string { return fmt.Sprintf("%.1f%%", v) }
	return []change{
		compare("Active users", float64(this.Users), float64(last.Users), n, false),
		compare("Sessions", float64(this.Sessions), float64(last.Sessions), n, false),
		compare("Tokens", float64(this.Tokens), float64(last.Tokens), tok, false),
		compare("Cost", this.Cost, last.Cost, usd, true),
		compare("Tool calls", float64(this.ToolCalls), float64(last.ToolCalls), n, false),
		compare("Tool error rate", rate(this), rate(last), pct, true),
	}
}

type overviewData struct {
	Period      period
	Periods     []int
	Totals      kpis
	Week        []change
	TokensChart template.HTML
	CostChart   template.HTML
	Models      template.HTML
	Tools       template.HTML
	Hours       template.HTML
	// Stacked says what the day charts are stacked by.
	Stacked string
	Empty   bool
}

// overviewPage is GET /?days=N: the team's activity, from the aggregates.
func (d *Dashboard) overviewPage(r *http.Request) (page, error) {
	p, err := d.periodOf(r)
	if err != nil {
		return page{}, err
	}
	u, _ := viewerOf(r)
	ctx := r.Context()
	// This week against last: the 7 days to today and the 7 before.
	weekStart := p.Until.AddDate(0, 0, -7)
	var days, weeks []store.DailyStat
	var models []store.UsageGroup
	var tools []store.ToolStat
	var hours []store.HourStat
	err = parallel(
		func() (err error) { days, err = d.team.DailyStats(ctx, p.query(0)); return err },
		func() (err error) {
			weeks, err = d.team.DailyStats(ctx, store.StatsQuery{Since: weekStart.AddDate(0, 0, -7), Until: p.Until})
			return err
		},
		func() (err error) { models, err = d.team.UsageBy(ctx, p.query(0), store.GroupModel); return err },
		func() (err error) { tools, err = d.team.ToolStats(ctx, p.query(0)); return err },
		func() (err error) { hours, err = d.team.HourStats(ctx, p.query(0)); return err },
	)
	if err != nil {
		return page{}, err
	}
	out := overviewData{Period: p, Periods: periods, Totals: sumKPIs(days), Empty: len(days) == 0}
	i := slices.IndexFunc(weeks, func(s store.DailyStat) bool { return !s.Day.Before(weekStart) })
	if i < 0 {
		i = len(weeks)
	}
	out.Week = weekChanges(sumKPIs(weeks[i:]), sumKPIs(weeks[:i]))

	// An admin sees each user's part of the days; a member, theirs against
	// the rest of the team's.
	key := func(s store.DailyStat) string { return s.User }
	out.Stacked = "user"
	if !u.Admin {
		out.Stacked = "you and the rest of the team"
		key = func(s store.DailyStat) string {
			if s.UserID == u.ID {
				return "you"
			}
			return "rest of the team"
		}
	}
	out.TokensChart = dayChart("Tokens per day", p, days, key, func(s store.DailyStat) float64 { return float64(s.Tokens.Total()) },
		func(v float64) string { return tokens(int64(v)) })
	out.CostChart = dayChart("Cost per day", p, days, key, func(s store.DailyStat) float64 { return s.Cost },
		func(v float64) string { return fmt.Sprintf("$%.2f", v) })
	out.Models = modelBars(models)
	out.Tools = toolBars(tools, 12)
	out.Hours = hourMap(hours)
	return page{Template: "team_overview", Title: "Team overview", Data: out}, nil
}

// parallel runs reads at once (each on a connection of its own) and
// returns the first error.
func parallel(fns ...func() error) error {
	errs := make([]error, len(fns))
	var wg sync.WaitGroup
	for i, f := range fns {
		wg.Go(func() { errs[i] = f() })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// dayChart stacks a value of days by a key (a user, or you and the rest),
// the largest stacksUsers keys by name and the others as one.
func dayChart(title string, p period, days []store.DailyStat, key func(store.DailyStat) string,
	value func(store.DailyStat) float64, format func(float64) string) template.HTML {
	labels := p.Labels()
	index := map[string]int{}
	for i, l := range labels {
		index[l] = i
	}
	totals := map[string]float64{}
	for _, s := range days {
		totals[key(s)] += value(s)
	}
	keys := make([]string, 0, len(totals))
	for k := range totals {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int { return cmp.Or(cmp.Compare(totals[b], totals[a]), cmp.Compare(a, b)) })
	const others = "others"
	series := map[string]*chart.Series{}
	var order []*chart.Series
	for i, k := range keys {
		name := k
		if i >= stackedUsers && len(keys) > stackedUsers+1 {
			name = others
		}
		if _, ok := series[name]; !ok {
			s := &chart.Series{Name: name, Values: make([]float64, len(labels))}
			series[name] = s
			order = append(order, s)
		}
		series[k] = series[name]
	}
	for _, s := range days {
		if i, ok := index[s.Day.Format(time.DateOnly)]; ok {
			series[key(s)].Values[i] += value(s)
		}
	}
	c := chart.Stacked{Title: title, Labels: labels, Format: format}
	for _, s := range order {
		c.Series = append(c.Series, *s)
	}
	return c.SVG()
}

func modelBars(models []store.UsageGroup) template.HTML {
	var total int64
	for _, m := range models {
		total += m.Tokens.Total()
	}
	b := chart.Bars{Title: "Model mix (tokens)", Format: func(v float64) string { return tokens(int64(v)) }}
	for _, m := range models {
		b.Items = append(b.Items, chart.Bar{Label: cmp.Or(m.Key, "(unknown)"), Value: float64(m.Tokens.Total()),
			Note: fmt.Sprintf("%.0f%% · $%.2f", float64(m.Tokens.Total())/float64(max(total, 1))*100, m.Cost)})
	}
	slices.SortStableFunc(b.Items, func(x, y chart.Bar) int { return cmp.Compare(y.Value, x.Value) })
	return b.SVG()
}

func toolBars(tools []store.ToolStat, n int) template.HTML {
	b := chart.Bars{Title: "Tool calls and error rates", Format: func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }}
	for _, t := range tools[:min(n, len(tools))] {
		b.Items = append(b.Items, chart.Bar{Label: t.Tool, Value: float64(t.Calls),
			Note: fmt.Sprintf("%.1f%% errors", float64(t.Errors)/float64(max(t.Calls, 1))*100)})
	}
	return b.SVG()
}

func hourMap(hours []store.HourStat) template.HTML {
	h := chart.Heatmap{Title: "Busiest hours (UTC, replies)", Values: make([][]float64, 7),
		Format: func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) + " replies" }}
	// Monday first.
	for i := range 7 {
		h.Rows = append(h.Rows, time.Weekday((i + 1) % 7).String()[:3])
		h.Values[i] = make([]float64, 24)
	}
	for i := range 24 {
		h.Cols = append(h.Cols, fmt.Sprintf("%02d", i))
	}
	var any bool
	for _, s := range hours {
		h.Values[(int(s.Weekday)+6)%7][s.Hour] += float64(s.Replies)
		any = any || s.Replies > 0
	}
	if !any {
		h.Values = nil
	}
	return h.SVG()
}

type userPageData struct {
	Period      period
	Periods     []int
	User        store.User
	Self        bool
	Totals      kpis
	TokensChart template.HTML
	Models      template.HTML
	Tools       template.HTML
	Hours       template.HTML
	Projects    []store.UsageGroup
	CSRF        string
}

// userPage is GET /users/{name}?days=N: one user's activity (a member sees
// only their own).
func (d *Dashboard) userPage(r *http.Request) (page, error) {
	viewer, _ := viewerOf(r)
	name := mux.Vars(r)["name"]
	if !viewer.Admin && name != viewer.Name {
		return page{}, forbidden("a member sees only their own page")
	}
	u, err := d.team.UserByName(r.Context(), name)
	if errors.Is(err, store.ErrNotFound) {
		return page{}, notFound("no user %s", name)
	}
	if err != nil {
		return page{}, err
	}
	p, err := d.periodOf(r)
	if err != nil {
		return page{}, err
	}
	ctx := r.Context()
	q := p.query(u.ID)
	var days []store.DailyStat
	var models, projects []store.UsageGroup
	var tools []store.ToolStat
	var hours []store.HourStat
	err = parallel(
		func() (err error) { days, err = d.team.DailyStats(ctx, q); return err },
		func() (err error) { models, err = d.team.UsageBy(ctx, q, store.GroupModel); return err },
		func() (err error) { projects, err = d.team.UsageBy(ctx, q, store.GroupProject); return err },
		func() (err error) { tools, err = d.team.ToolStats(ctx, q); return err },
		func() (err error) { hours, err = d.team.HourStats(ctx, q); return err },
	)
	if err != nil {
		return page{}, err
	}
	data := userPageData{Period: p, Periods: periods, User: u, Self: u.ID == viewer.ID, Totals: sumKPIs(days),
		TokensChart: dayChart("Tokens per day", p, days, func(store.DailyStat) string { return u.Name },
			func(s store.DailyStat) float64 { return float64(s.Tokens.Total()) }, func(v float64) string { return tokens(int64(v)) }),
		Models: modelBars(models), Tools: toolBars(tools, 12), Hours: hourMap(hours), Projects: projects,
		CSRF: csrfOf(r)}
	return page{Template: "team_user", Title: u.Name, Data: data}, nil
}

// setLeaderboard is POST /users/{name}/leaderboard (show=1 or 0): a user
// (or an admin) says whether they are ranked.
func (d *Dashboard) setLeaderboard(w http.ResponseWriter, r *http.Request) {
	viewer, _ := viewerOf(r)
	name := mux.Vars(r)["name"]
	if !viewer.Admin && name != viewer.Name {
		d.writeHTMLError(w, r, forbidden("only %s or an admin may change this", name))
		return
	}
	_, err := d.team.SetLeaderboard(r.Context(), name, r.PostFormValue("show") == "1")
	if errors.Is(err, store.ErrNotFound) {
		err = notFound("no user %s", name)
	}
	if err != nil {
		d.writeHTMLError(w, r, err)
		return
	}
	http.Redirect(w, r, "/users/"+url.PathEscape(name), http.StatusSeeOther)
}

// usageGroups are the groups the usage page sums by, with their titles.
var usageGroupTitles = []struct{ Group, Title string }{
	{store.GroupUser, "User"}, {store.GroupProject, "Project"}, {store.GroupModel, "Model"}, {store.GroupSubagent, "Subagent"},
}

type teamUsageData struct {
	Period  period
	Periods []int
	By      string
	Title   string
	Groups  []struct{ Group, Title string }
	Rows    []store.UsageGroup
	Total   store.UsageGroup
	Params  url.Values
	Scope   string // whose usage: "", or a user's name
}

// usageOf reads the usage a usage page or CSV shows: by= user, project,
// model or subagent over days=N; a member's own, an admin's everyone's or
// user='s.
func (d *Dashboard) usageOf(r *http.Request) (teamUsageData, error) {
	p, err := d.periodOf(r)
	if err != nil {
		return teamUsageData{}, err
	}
	by := cmp.Or(r.URL.Query().Get("by"), store.GroupUser)
	i := slices.IndexFunc(usageGroupTitles, func(g struct{ Group, Title string }) bool { return g.Group == by })
	if i < 0 {
		return teamUsageData{}, badRequest("by=%q: want user, project, model or subagent", by)
	}
	only := scopeOf(r)
	rows, err := d.team.UsageBy(r.Context(), p.query(only), by)
	if err != nil {
		return teamUsageData{}, err
	}
	out := teamUsageData{Period: p, Periods: periods, By: by, Title: usageGroupTitles[i].Title, Groups: usageGroupTitles,
		Rows: rows, Params: r.URL.Query()}
	for _, g := range rows {
		out.Total.Tokens.Add(g.Tokens)
		out.Total.Cost = store.RoundCost(out.Total.Cost + g.Cost)
		out.Total.Replies += g.Replies
	}
	if only != 0 {
		if u, _ := viewerOf(r); u.ID == only {
			out.Scope = u.Name
		} else {
			out.Scope = r.URL.Query().Get("user")
		}
	}
	return out, nil
}

// usagePage is GET /usage?by=&days=&user=.
func (d *Dashboard) usagePage(r *http.Request) (page, error) {
	data, err := d.usageOf(r)
	if err != nil {
		return page{}, err
	}
	return page{Template: "team_usage", Title: "Usage by " + data.By, Data: data}, nil
}

// usageCSV is GET /usage.csv?by=&days=&user=: the usage page's table.
func (d *Dashboard) usageCSV(w http.ResponseWriter, r *http.Request) {
	data, err := d.usageOf(r)
	if err != nil {
		d.writeHTMLError(w, r, err)
		return
	}
	name := fmt.Sprintf("usage-by-%s-%s-to-%s.csv", data.By, data.Period.Since.Format(time.DateOnly), data.Period.Last().Format(time.DateOnly))
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set("Cache-Control", "no-store")
	cw := csv.NewWriter(w)
	head := []string{data.By}
	if data.By == store.GroupSubagent {
		head = append(head, "is_subagent")
	}
	cw.Write(append(head, "replies", "input_tokens", "output_tokens", "cache_write_5m_tokens", "cache_write_1h_tokens",
		"cache_read_tokens", "total_tokens", "cost_usd", "users"))
	for _, g := range data.Rows {
		row := []string{csvSafe(g.Key)}
		if data.By == store.GroupSubagent {
			row = append(row, strconv.FormatBool(g.Subagent))
		}
		i := func(n int64) string { return strconv.FormatInt(n, 10) }
		cw.Write(append(row, i(g.Replies), i(g.Input), i(g.Output), i(g.CacheWrite5m), i(g.CacheWrite1h), i(g.CacheRead),
			i(g.Tokens.Total()), strconv.FormatFloat(g.Cost, 'f', -1, 64), i(g.Users)))
	}
	cw.Flush()
}

// csvSafe keeps a spreadsheet from reading a cell as a formula.
func csvSafe(s string) string {
	if s != "" && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@') {
		return "'" + s
	}
	return s
}

type leaderRow struct {
	Rank int
	Name string
	Days int
	store.UsageGroup
}

type leaderboardData struct {
	Period  period
	Periods []int
	Rows    []leaderRow
	Hidden  int // users who asked not to be ranked
	Me      store.User
}

// leaderboardPage is GET /leaderboard?days=N: users by tokens, leaving out
// those who asked to be.
func (d *Dashboard) leaderboardPage(r *http.Request) (page, error) {
	p, err := d.periodOf(r)
	if err != nil {
		return page{}, err
	}
	ctx := r.Context()
	var users []store.User
	var groups []store.UsageGroup
	var days []store.DailyStat
	err = parallel(
		func() (err error) { users, err = d.team.Users(ctx); return err },
		func() (err error) { groups, err = d.team.UsageBy(ctx, p.query(0), store.GroupUser); return err },
		func() (err error) { days, err = d.team.DailyStats(ctx, p.query(0)); return err },
	)
	if err != nil {
		return page{}, err
	}
	shown := map[string]bool{}
	hidden := 0
	for _, u := range users {
		shown[u.Name] = u.Leaderboard
		if !u.Leaderboard {
			hidden++
		}
	}
	active := map[string]int{}
	for _, s := range days {
		active[s.User]++
	}
	slices.SortStableFunc(groups, func(a, b store.UsageGroup) int {
		return cmp.Or(cmp.Compare(b.Tokens.Total(), a.Tokens.Total()), cmp.Compare(a.Key, b.Key))
	})
	me, _ := viewerOf(r)
	data := leaderboardData{Period: p, Periods: periods, Hidden: hidden, Me: me}
	for _, g := range groups {
		if shown[g.Key] {
			data.Rows = append(data.Rows, leaderRow{Rank: len(data.Rows) + 1, Name: g.Key, Days: active[g.Key], UsageGroup: g})
		}
	}
	return page{Template: "team_leaderboard", Title: "Leaderboard", Data: data}, nil
}
