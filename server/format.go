package server

import (
	"fmt"
	"html/template"
	"strconv"
	"strings"
	"time"

	"github.com/claude-insights/insights/report"
	"github.com/claude-insights/insights/store"
)

func (s *Server) funcs() template.FuncMap { return pageFuncs(s.opts.Location) }

// pageFuncs are the functions templates call, showing times in loc.
func pageFuncs(loc *time.Location) template.FuncMap {
	return template.FuncMap{
		"tokens":          tokens,
		"cost":            func(c float64) string { return fmt.Sprintf("$%.2f", c) },
		"duration":        humanDuration,
		"sessionDuration": func(ss store.Session) string { return humanDuration(duration(ss)) },
		"when": func(t time.Time) string {
			if t.IsZero() {
				return "—"
			}
			return t.In(loc).Format("2006-01-02 15:04")
		},
		"clock": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.In(loc).Format("15:04:05")
		},
		"iso": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.Format(time.RFC3339)
		},
		"active":     active,
		"withParam":  withParam,
		"sortLink":   sortLink,
		"add":        func(a, b int) int { return a + b },
		"itoa":       itoa,
		"bytes":      humanBytes,
		"shortModel": report.ShortModel,
		"shortID": func(id string) string {
			if len(id) > 8 {
				return id[:8]
			}
			return id
		},
	}
}

// tokens writes a count of tokens briefly: 950, 12.3k, 4.56M.
func tokens(n int64) string {
	switch {
	case n < 1000:
		return strconv.FormatInt(n, 10)
	case n < 1_000_000:
		return strings.TrimSuffix(fmt.Sprintf("%.1f", float64(n)/1e3), ".0") + "k"
	case n < 1_000_000_000:
		return strings.TrimSuffix(fmt.Sprintf("%.2f", float64(n)/1e6), ".00") + "M"
	}
	return strings.TrimSuffix(fmt.Sprintf("%.2f", float64(n)/1e9), ".00") + "B"
}

// humanDuration writes a duration to the second or minute: 45s, 12m 5s, 3h 20m.
func humanDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "—"
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm %ds", int(d.Minutes()), int(d.Seconds())%60)
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh %dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd %dh", int(d.Hours())/24, int(d.Hours())%24)
}

func humanBytes(n int) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
}
