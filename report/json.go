package report

import (
	"encoding/json"
	"io"
	"time"

	"github.com/claude-insights/insights/store"
)

// jsonRow is a report row in the shape of ccusage 20's JSON, with ccusage
// 18's name for the period beside it, so scripts written for either work.
type jsonRow struct {
	Period       string `json:"period"`
	Date         string `json:"date,omitempty"`
	Week         string `json:"week,omitempty"`
	Month        string `json:"month,omitempty"`
	SessionID    string `json:"sessionId,omitempty"`
	ProjectPath  string `json:"projectPath,omitempty"`
	LastActivity string `json:"lastActivity,omitempty"`
	Agent        string `json:"agent"`
	jsonTokens
	TotalTokens     int64           `json:"totalTokens"`
	TotalCost       float64         `json:"totalCost"`
	ModelsUsed      []string        `json:"modelsUsed"`
	ModelBreakdowns []jsonBreakdown `json:"modelBreakdowns"`
	SpentBy         []jsonShare     `json:"spentBy,omitempty"`
	Metadata        map[string]any  `json:"metadata,omitempty"`
}

// jsonShare is who spent part of a session's usage (report.Share).
type jsonShare struct {
	By   string `json:"by"`
	Name string `json:"name,omitempty"`
	Type string `json:"type,omitempty"`
	jsonTokens
	TotalTokens int64   `json:"totalTokens"`
	Cost        float64 `json:"cost"`
	Replies     int64   `json:"replies"`
	Unpriced    int64   `json:"unpricedReplies,omitempty"`
}

type jsonBreakdown struct {
	ModelName string `json:"modelName"`
	jsonTokens
	Cost     float64 `json:"cost"`
	Unpriced bool    `json:"missingPricing,omitempty"`
}

type jsonTotals struct {
	jsonTokens
	TotalTokens    int64    `json:"totalTokens"`
	TotalCost      float64  `json:"totalCost"`
	UnpricedModels []string `json:"unpricedModels,omitempty"`
}

// jsonTokens are the token counts of every row, breakdown and total.
type jsonTokens struct {
	InputTokens         int64 `json:"inputTokens"`
	OutputTokens        int64 `json:"outputTokens"`
	CacheCreationTokens int64 `json:"cacheCreationTokens"`
	CacheReadTokens     int64 `json:"cacheReadTokens"`
}

func tokensJSON(t store.Tokens) jsonTokens {
	return jsonTokens{InputTokens: t.Input, OutputTokens: t.Output, CacheCreationTokens: t.CacheWrite(), CacheReadTokens: t.CacheRead}
}

// WriteJSON writes the report as JSON: {"<period>": [rows], "totals": {...}}.
func (r *Report) WriteJSON(w io.Writer, loc *time.Location) error {
	rows := make([]jsonRow, 0, len(r.Rows))
	for _, row := range r.Rows {
		jr := jsonRow{
			Period:          row.Key,
			Agent:           "all",
			jsonTokens:      tokensJSON(row.Tokens),
			TotalTokens:     row.Total(),
			TotalCost:       row.Cost,
			ModelsUsed:      row.ModelNames(),
			ModelBreakdowns: make([]jsonBreakdown, 0, len(row.Models)),
			Metadata:        map[string]any{"agents": []string{"claude"}},
		}
		switch r.Period {
		case Daily:
			jr.Date = row.Key
		case Weekly:
			jr.Week = row.Key
		case Monthly:
			jr.Month = row.Key
		case Session:
			jr.Agent = "claude"
			jr.SessionID = row.Key
			jr.ProjectPath = row.Project
			jr.LastActivity = row.LastAt.In(loc).Format("2006-01-02")
			jr.Metadata = map[string]any{"lastActivity": row.LastAt.UTC().Format("2006-01-02T15:04:05.000Z")}
		}
		for _, m := range row.Models {
			jr.ModelBreakdowns = append(jr.ModelBreakdowns, jsonBreakdown{
				ModelName:  m.Model,
				jsonTokens: tokensJSON(m.Tokens),
				Cost:       m.Cost,
				Unpriced:   !m.Priced,
			})
		}
		for _, sh := range row.SpentBy {
			jr.SpentBy = append(jr.SpentBy, jsonShare{By: sh.By, Name: sh.Name, Type: sh.Type,
				jsonTokens: tokensJSON(sh.Tokens), TotalTokens: sh.Total(), Cost: sh.Cost, Replies: sh.Replies,
				Unpriced: sh.Unpriced})
		}
		rows = append(rows, jr)
	}
	t := r.Totals
	out := map[string]any{
		string(r.Period): rows,
		"totals": jsonTotals{
			jsonTokens:     tokensJSON(t.Tokens),
			TotalTokens:    t.Total(),
			TotalCost:      t.Cost,
			UnpricedModels: r.Unpriced,
		},
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
