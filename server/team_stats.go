package server

import (
	"net/http"
	"slices"
	"time"

	"github.com/claude-insights/insights/store"
)

type apiTeamDay struct {
	Day        string    `json:"day,omitempty"`
	Users      int       `json:"activeUsers"`
	Sessions   int64     `json:"sessions"`
	Messages   int64     `json:"messages"`
	Replies    int64     `json:"replies"`
	Tokens     apiTokens `json:"tokens"`
	Cost       float64   `json:"cost"`
	ToolCalls  int64     `json:"toolCalls"`
	ToolErrors int64     `json:"toolErrors"`
}

type apiUserTotal struct {
	Name     string    `json:"name"`
	Days     int       `json:"activeDays"`
	Sessions int64     `json:"sessions"`
	Messages int64     `json:"messages"`
	Tokens   apiTokens `json:"tokens"`
	Cost     float64   `json:"cost"`
}

type apiTeamStats struct {
	Since  string         `json:"since,omitempty"`
	Until  string         `json:"until,omitempty"`
	Totals apiTeamDay     `json:"totals"`
	Days   []apiTeamDay   `json:"days"`
	Tools  []apiToolUse   `json:"tools"`
	Users  []apiUserTotal `json:"users,omitempty"`
}

// teamStats is GET /api/v1/team/stats?since=&until= (UTC days, both
// inclusive)&user=: the team's activity per day and its tools, read from
// the aggregates alone; admins also get each user's totals.
func (t *TeamAPI) teamStats(r *http.Request) (any, error) {
	v := r.URL.Query()
	var q store.StatsQuery
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"since", &q.Since}, {"until", &q.Until}} {
		if s := v.Get(p.name); s != "" {
			d, err := time.Parse(time.DateOnly, s)
			if err != nil {
				return nil, badRequest("%s=%q: want a date as YYYY-MM-DD", p.name, s)
			}
			*p.dst = d
		}
	}
	if !q.Until.IsZero() {
		if !q.Since.IsZero() && q.Until.Before(q.Since) {
			return nil, badRequest("until=%s is before since=%s", v.Get("until"), v.Get("since"))
		}
		q.Until = q.Until.AddDate(0, 0, 1)
	}
	// The team's aggregates are every member's to see; user= narrows them
	// to one (a member may name only themselves).
	if v.Get("user") != "" {
		q.UserID = scopeOf(r)
	}
	ctx := r.Context()
	days, err := t.team.DailyStats(ctx, q)
	if err != nil {
		return nil, err
	}
	tools, err := t.team.ToolStats(ctx, q)
	if err != nil {
		return nil, err
	}
	out := apiTeamStats{Since: v.Get("since"), Until: v.Get("until"), Days: []apiTeamDay{}, Tools: []apiToolUse{}}
	// Rows come by day, then user name.
	var totals, day store.DailyStat
	dayUsers, users := 0, map[int64]bool{}
	byUser := map[string]*store.DailyStat{}
	activeDays := map[string]int{}
	var names []string
	flush := func() {
		if dayUsers > 0 {
			out.Days = append(out.Days, toAPIDay(day.Day.Format(time.DateOnly), dayUsers, day))
		}
	}
	for _, d := range days {
		if !d.Day.Equal(day.Day) || dayUsers == 0 {
			flush()
			day, dayUsers = store.DailyStat{Day: d.Day}, 0
		}
		dayUsers++
		addStat(&day, d)
		addStat(&totals, d)
		users[d.UserID] = true
		u, ok := byUser[d.User]
		if !ok {
			u = &store.DailyStat{}
			byUser[d.User] = u
			names = append(names, d.User)
		}
		addStat(u, d)
		activeDays[d.User]++
	}
	flush()
	out.Totals = toAPIDay("", len(users), totals)
	for _, tl := range tools {
		out.Tools = append(out.Tools, apiToolUse{Name: tl.Tool, Calls: tl.Calls, Errors: tl.Errors})
	}
	if u, _ := viewerOf(r); u.Admin {
		slices.Sort(names)
		out.Users = []apiUserTotal{}
		for _, n := range names {
			u := byUser[n]
			out.Users = append(out.Users, apiUserTotal{Name: n, Days: activeDays[n], Sessions: u.Sessions,
				Messages: u.Messages, Tokens: toAPITokens(u.Tokens), Cost: u.Cost})
		}
	}
	return out, nil
}

func toAPIDay(day string, users int, d store.DailyStat) apiTeamDay {
	return apiTeamDay{Day: day, Users: users, Sessions: d.Sessions, Messages: d.Messages, Replies: d.Replies,
		Tokens: toAPITokens(d.Tokens), Cost: d.Cost, ToolCalls: d.ToolCalls, ToolErrors: d.ToolErrors}
}

func addStat(a *store.DailyStat, d store.DailyStat) {
	a.Sessions += d.Sessions
	a.Messages += d.Messages
	a.Replies += d.Replies
	a.Tokens.Add(d.Tokens)
	a.Cost = store.RoundCost(a.Cost + d.Cost)
	a.ToolCalls += d.ToolCalls
	a.ToolErrors += d.ToolErrors
}
