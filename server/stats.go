package server

import (
	"net/http"
	"time"

	"github.com/claude-insights/insights/report"
)

type apiStats struct {
	Sessions   int64        `json:"sessions"`
	Messages   int64        `json:"messages"`
	ToolCalls  int64        `json:"toolCalls"`
	ToolErrors int64        `json:"toolErrors"`
	Subagents  int64        `json:"subagents"`
	Projects   int          `json:"projects"`
	Tokens     apiTokens    `json:"tokens"`
	Cost       float64      `json:"cost"`
	FirstAt    *time.Time   `json:"firstActivity"`
	LastAt     *time.Time   `json:"lastActivity"`
	TopTools   []apiToolUse `json:"topTools"`
}

type apiToolUse struct {
	Name   string `json:"name"`
	Calls  int64  `json:"calls"`
	Errors int64  `json:"errors"`
}

// apiStats is GET /api/stats: the totals of the whole database, with the
// tools (default 10, at most 100) called most. Tokens and cost are those of
// `insights usage`'s totals without a range.
func (s *Server) apiStats(r *http.Request) (any, error) {
	n, err := intParam(r, "tools", 10, 100)
	if err != nil {
		return nil, err
	}
	ctx := r.Context()
	t, err := s.db.Totals(ctx, n)
	if err != nil {
		return nil, err
	}
	facets, err := s.db.Facets(ctx, scopeOf(r))
	if err != nil {
		return nil, err
	}
	// Totals do not depend on the zone days are counted in.
	usage, err := report.Usage(ctx, s.db, report.Options{Period: report.Daily, Location: time.UTC})
	if err != nil {
		return nil, err
	}
	out := apiStats{Sessions: t.Sessions, Messages: t.Messages, ToolCalls: t.ToolCalls, ToolErrors: t.ToolErrors,
		Subagents: t.Subagents, Tokens: toAPITokens(usage.Totals.Tokens),
		Cost: usage.Totals.Cost, FirstAt: timePtr(t.FirstAt), LastAt: timePtr(t.LastAt), TopTools: []apiToolUse{}}
	for _, p := range facets.Projects {
		if p.Value != "" {
			out.Projects++
		}
	}
	for _, c := range t.Tools {
		out.TopTools = append(out.TopTools, apiToolUse{Name: c.Name, Calls: c.Calls, Errors: c.Errors})
	}
	return out, nil
}
