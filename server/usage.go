package server

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/url"
	"sort"
	"time"

	"github.com/claude-insights/insights/report"
	"github.com/claude-insights/insights/store"
)

// usageSessions is how many sessions the usage page lists at first; "show
// more" adds as many again.
const usageSessions = 25

// usageOptions reads the range, zone and project of a usage report from a
// request's parameters, as `insights usage` reads them from its flags:
//
//	since and until (YYYY-MM-DD or YYYYMMDD, both inclusive, in tz),
//	tz (an IANA zone; default the server's), project.
func (s *Server) usageOptions(r *http.Request, p report.Period) (report.Options, error) {
	v := r.URL.Query()
	opt := report.Options{Period: p, Project: v.Get("project"), Location: s.opts.Location, UserID: scopeOf(r)}
	if tz := v.Get("tz"); tz != "" {
		loc, err := time.LoadLocation(tz)
		if err != nil {
			return opt, badRequest("tz=%q: not a time zone (want an IANA name such as Europe/Berlin)", tz)
		}
		opt.Location = loc
	}
	for _, d := range []struct {
		name string
		dst  *time.Time
	}{{"since", &opt.Since}, {"until", &opt.Until}} {
		if s := v.Get(d.name); s != "" {
			t, err := report.ParseDate(s, opt.Location)
			if err != nil {
				return opt, badRequest("%s=%q: want a date as YYYY-MM-DD", d.name, s)
			}
			*d.dst = t
		}
	}
	if !opt.Since.IsZero() && !opt.Until.IsZero() && opt.Until.Before(opt.Since) {
		return opt, badRequest("until=%s is before since=%s", v.Get("until"), v.Get("since"))
	}
	return opt, nil
}

// writerFunc writes a response body, or returns an error instead.
type writerFunc func(w io.Writer, r *http.Request) error

// jsonWriter answers with the JSON a writerFunc writes, byte for byte, or
// with an error mapped as the json responder maps it.
func (s *Server) jsonWriter(h writerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b bytes.Buffer
		if err := h(&b, r); err != nil {
			s.json(func(*http.Request) (any, error) { return nil, err }).ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.Write(b.Bytes())
	})
}

// apiUsage is GET /api/usage: what `insights usage <period> --json` prints
// for the same options, period one of daily (default), weekly, monthly or
// session.
func (s *Server) apiUsage(w io.Writer, r *http.Request) error {
	p := report.Daily
	if v := r.URL.Query().Get("period"); v != "" {
		var err error
		if p, err = report.ParsePeriod(v); err != nil {
			return badRequest("period=%q: want daily, weekly, monthly or session", v)
		}
	}
	opt, err := s.usageOptions(r, p)
	if err != nil {
		return err
	}
	rep, err := report.Usage(r.Context(), s.db, opt)
	if err != nil {
		return err
	}
	return rep.WriteJSON(w, opt.Location)
}

type usageData struct {
	Params   url.Values // the options as given, to keep them in links
	Zone     string
	Facets   store.Facets
	Filters  bool
	Daily    *report.Report
	Chart    usageChart
	Models   []report.ModelUsage
	Projects []projectUsage
	Sessions []sessionUsage
	// AllSessions counts the sessions with usage in the range; More links
	// to the page listing more of them ("" when all are listed).
	AllSessions int
	More        string
	// Main, Subagents, Skills and MCP are who spent the range's usage.
	Main                    store.SpentSum
	Subagents, Skills, MCPs []store.SpentSum
}

type projectUsage struct {
	Project  string
	Sessions int
	store.Tokens
	Cost float64
}

type sessionUsage struct {
	report.Row
	Title string
}

// usagePage is GET /usage: tokens and cost per day, model, project, session
// and who spent them, with usageOptions' parameters and sessions (how many
// sessions to list).
//
// Days and models come from the daily report, sessions and projects from the
// session report: the numbers of `insights usage daily` and `insights usage
// session`. Who spent the usage comes from store.SpentSums, summed inside the
// database over every session of the range, because report.SpentBy reads
// every message of each session and takes seconds over hundreds of them.
func (s *Server) usagePage(r *http.Request) (page, error) {
	opt, err := s.usageOptions(r, report.Daily)
	if err != nil {
		return page{}, err
	}
	limit, err := intParam(r, "sessions", usageSessions, 0)
	if err != nil {
		return page{}, err
	}
	ctx := r.Context()
	d := usageData{Params: url.Values{}, Zone: opt.Location.String()}
	for _, k := range []string{"since", "until", "tz", "project"} {
		if v := r.URL.Query().Get(k); v != "" {
			d.Params.Set(k, v)
			d.Filters = true
		}
	}
	if d.Facets, err = s.db.Facets(ctx, scopeOf(r)); err != nil {
		return page{}, err
	}
	if d.Daily, err = report.Usage(ctx, s.db, opt); err != nil {
		return page{}, err
	}
	title := "Usage"
	if len(d.Daily.Rows) == 0 {
		return page{Template: "usage", Title: title, Data: d}, nil
	}
	d.Chart = dailyChart(d.Daily, opt)
	d.Models = modelTotals(d.Daily)
	opt.Period = report.Session
	bySession, err := report.Usage(ctx, s.db, opt)
	if err != nil {
		return page{}, err
	}
	d.Projects = projectTotals(bySession)
	rows := bySession.Rows
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].Cost > rows[j].Cost })
	d.AllSessions = len(rows)
	if limit > 0 && limit < len(rows) {
		rows = rows[:limit]
		d.More = withParam(d.Params, "sessions", itoa(limit+usageSessions))
	}
	for _, row := range rows {
		su := sessionUsage{Row: row}
		ss, err := s.db.Session(ctx, row.Key)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return page{}, err
		}
		su.Title = ss.Title
		d.Sessions = append(d.Sessions, su)
	}
	spent, err := report.SpentSums(ctx, s.db, opt)
	if err != nil {
		return page{}, err
	}
	for _, sp := range spent {
		switch sp.By {
		case store.SpentMain:
			d.Main = sp
		case store.SpentSubagent:
			d.Subagents = append(d.Subagents, sp)
		case store.SpentSkill:
			d.Skills = append(d.Skills, sp)
		case store.SpentMCP:
			d.MCPs = append(d.MCPs, sp)
		}
	}
	return page{Template: "usage", Title: title, Data: d}, nil
}

// modelTotals sums each model's usage over the rows of a report, by cost.
func modelTotals(r *report.Report) []report.ModelUsage {
	byModel := map[string]*report.ModelUsage{}
	for _, row := range r.Rows {
		for _, m := range row.Models {
			t, ok := byModel[m.Model]
			if !ok {
				t = &report.ModelUsage{Model: m.Model, Priced: true}
				byModel[m.Model] = t
			}
			t.Tokens.Add(m.Tokens)
			t.Cost += m.Cost
			t.Priced = t.Priced && m.Priced
		}
	}
	out := make([]report.ModelUsage, 0, len(byModel))
	for _, m := range byModel {
		m.Cost = store.RoundCost(m.Cost)
		out = append(out, *m)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Cost != out[j].Cost {
			return out[i].Cost > out[j].Cost
		}
		return out[i].Total() > out[j].Total() || out[i].Total() == out[j].Total() && out[i].Model < out[j].Model
	})
	return out
}

// projectTotals sums the session rows of a report per project, by cost.
func projectTotals(r *report.Report) []projectUsage {
	byProject := map[string]*projectUsage{}
	for _, row := range r.Rows {
		p, ok := byProject[row.Project]
		if !ok {
			p = &projectUsage{Project: row.Project}
			byProject[row.Project] = p
		}
		p.Sessions++
		p.Tokens.Add(row.Tokens)
		p.Cost += row.Cost
	}
	out := make([]projectUsage, 0, len(byProject))
	for _, p := range byProject {
		p.Cost = store.RoundCost(p.Cost)
		out = append(out, *p)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Cost != out[j].Cost {
			return out[i].Cost > out[j].Cost
		}
		return out[i].Project < out[j].Project
	})
	return out
}
