package server

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/claude-insights/insights/store"
)

// metrics are the team API's Prometheus metrics, in a registry of its own
// so that two servers in one process (tests) do not collide.
type metrics struct {
	reg       *prometheus.Registry
	requests  *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	uploads   *prometheus.CounterVec
	bytes     prometheus.Counter
	lines     prometheus.Counter
	skipped   prometheus.Counter
	serverErr prometheus.Counter

	exportRuns *prometheus.CounterVec
	exportDays prometheus.Counter
	exportLast prometheus.Gauge
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "insights_http_requests_total", Help: "HTTP requests answered, by route, method and status code.",
		}, []string{"route", "method", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "insights_http_request_duration_seconds", Help: "Time to answer HTTP requests, by route.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route"}),
		uploads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "insights_uploads_total", Help: "Uploads by result: stored, duplicate, conflict (409) or rejected.",
		}, []string{"result"}),
		bytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "insights_upload_bytes_total", Help: "Bytes of transcript received in uploads, decompressed.",
		}),
		lines: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "insights_upload_lines_total", Help: "Transcript lines read from uploads.",
		}),
		skipped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "insights_upload_skipped_lines_total", Help: "Uploaded lines that could not be imported.",
		}),
		serverErr: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "insights_http_server_errors_total", Help: "Requests answered with a 5xx status.",
		}),
		exportRuns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "insights_export_runs_total", Help: "Runs of the daily Parquet snapshot on this server, by result: ok or failed.",
		}, []string{"result"}),
		exportDays: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "insights_export_days_written_total", Help: "Days written by the daily Parquet snapshot on this server.",
		}),
		exportLast: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "insights_export_last_success_timestamp_seconds",
			Help: "When a run of the daily Parquet snapshot last finished without error on this server (Unix time; 0: never).",
		}),
	}
	m.exportRuns.WithLabelValues("ok")
	m.exportRuns.WithLabelValues("failed")
	m.reg.MustRegister(m.requests, m.latency, m.uploads, m.bytes, m.lines, m.skipped, m.serverErr,
		m.exportRuns, m.exportDays, m.exportLast, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// upload counts an upload's result, and what it read when it read.
func (m *metrics) upload(result string, res *store.UploadResult) {
	m.uploads.WithLabelValues(result).Inc()
	if res != nil && !res.Duplicate {
		m.bytes.Add(float64(res.Received))
		m.lines.Add(float64(res.Lines))
		m.skipped.Add(float64(res.Skipped))
	}
}

// ExportDone counts a run of the daily Parquet snapshot on this server: the
// days it wrote, and whether it failed.
func (t *TeamAPI) ExportDone(days int, err error) {
	t.metrics.exportDays.Add(float64(days))
	if err != nil {
		t.metrics.exportRuns.WithLabelValues("failed").Inc()
		return
	}
	t.metrics.exportRuns.WithLabelValues("ok").Inc()
	t.metrics.exportLast.SetToCurrentTime()
}

// instrument counts every request by its route's template (never its raw
// path, which would make a series per session id), and logs it: at debug
// level, or info for a client's mistake.
func (m *metrics) instrument(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		route := "other"
		r = r.WithContext(withRoute(r.Context(), &route))
		next.ServeHTTP(rec, r)
		took := time.Since(start)
		m.requests.WithLabelValues(route, r.Method, strconv.Itoa(rec.code)).Inc()
		m.latency.WithLabelValues(route).Observe(took.Seconds())
		if rec.code >= 500 {
			m.serverErr.Inc()
		}
		level := slog.LevelDebug
		if rec.code >= 400 {
			level = slog.LevelInfo
		}
		log.Log(r.Context(), level, "request", "method", r.Method, "path", r.URL.Path, "route", route,
			"code", rec.code, "ms", took.Milliseconds(), "remote", r.RemoteAddr)
	})
}

// routeNamer records, for the metrics, the template of the route that
// matched: mux knows it only inside the router.
func routeNamer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := routeOf(r.Context()); p != nil {
			if cr := mux.CurrentRoute(r); cr != nil {
				if tpl, err := cr.GetPathTemplate(); err == nil {
					*p = tpl
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// routeKey holds, in a request's context, where routeNamer writes the
// template of the route that matched.
type routeKey struct{}

func withRoute(ctx context.Context, p *string) context.Context {
	return context.WithValue(ctx, routeKey{}, p)
}

func routeOf(ctx context.Context) *string {
	p, _ := ctx.Value(routeKey{}).(*string)
	return p
}

type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.code = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
