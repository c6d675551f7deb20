package api

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"runtime/debug"
	"slices"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/platform/reqid"
	"github.com/learnhub/analytics-service/platform/telemetry"
	"github.com/learnhub/analytics-service/web"
)

// readyTimeout bounds each dependency check of /readyz.
const readyTimeout = 2 * time.Second

// Check is one dependency probed by /readyz.
type Check struct {
	Name  string
	Probe func(ctx context.Context) error
}

// RouterConfig wires the HTTP surface.
type RouterConfig struct {
	GraphQL  http.Handler
	Verifier auth.Verifier
	// DevToken, when set (dev-secret mode only), is offered to a browser on
	// this machine (web.DevTokenPath): the console's sign-in and GraphiQL
	// pre-fill it.
	DevToken string
	Checks   []Check
	Metrics  *telemetry.Metrics
	Log      *slog.Logger
	// Routes adds handlers (e.g. "POST /v1/events") behind the same middleware.
	Routes map[string]http.Handler
	// Tracing gives each request a span (nil: none).
	Tracing *telemetry.Tracing
}

// NewRouter returns the service's HTTP handler: /graphql, /playground
// (self-hosted GraphiQL), /healthz, /readyz, /metrics and the web console on
// every other path, behind request-id, recovery, logging and
// authentication middleware.
func NewRouter(cfg RouterConfig) http.Handler {
	mux := http.NewServeMux()
	for pattern, h := range routeTable(cfg) {
		mux.Handle(pattern, h)
	}
	var h http.Handler = routeRecorder(mux)
	h = auth.Middleware(cfg.Verifier)(h)
	h = observe(cfg.Log, cfg.Metrics, h)
	h = traceHTTP(cfg.Tracing, mux, h)
	h = recoverHTTP(cfg.Log, h)
	h = withRequestID(h)
	return h
}

// routeTable is every pattern the router serves.
func routeTable(cfg RouterConfig) map[string]http.Handler {
	routes := map[string]http.Handler{
		"/graphql":                      cfg.GraphQL,
		"GET /v1/dashboards/{idOrSlug}": DashboardAlias(cfg.GraphQL),
		"POST /v1/exports":              ExportCreate(cfg.GraphQL),
		"GET /v1/exports/{id}":          ExportGet(cfg.GraphQL),
		"GET /v1/openapi.json":          OpenAPIHandler(),
		"GET /playground":               web.Playground(),
		"/":                             web.Handler(web.Config{DevToken: cfg.DevToken}),
		"GET /healthz": http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
		}),
		"GET /readyz":  readyz(cfg.Checks),
		"GET /metrics": promhttp.HandlerFor(cfg.Metrics.Registry, promhttp.HandlerOpts{}),
	}
	for pattern, h := range cfg.Routes {
		routes[pattern] = h
	}
	return routes
}

// RoutePatterns lists the patterns NewRouter(cfg) serves, sorted; the
// OpenAPI test checks every /v1 one is documented.
func RoutePatterns(cfg RouterConfig) []string {
	return slices.Sorted(maps.Keys(routeTable(cfg)))
}

func readyz(checks []Check) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		status := http.StatusOK
		out := map[string]string{}
		for _, c := range checks {
			ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
			err := c.Probe(ctx)
			cancel()
			if err != nil {
				status = http.StatusServiceUnavailable
				out[c.Name] = "error: " + err.Error()
				continue
			}
			out[c.Name] = "ok"
		}
		writeJSON(w, status, out)
	}
}

func withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if id == "" || len(id) > 64 {
			id = reqid.New()
		}
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(reqid.With(r.Context(), id)))
	})
}

func recoverHTTP(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				log.ErrorContext(r.Context(), "http panic", "panic", fmt.Sprint(p), "stack", string(debug.Stack()), "request_id", reqid.From(r.Context()))
				writeJSON(w, http.StatusInternalServerError, map[string]any{
					"errors": []map[string]any{{"message": "internal error", "extensions": map[string]string{"code": "INTERNAL", "requestId": reqid.From(r.Context())}}},
				})
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// statusRecorder remembers the status code and the route the mux chose;
// it forwards Hijack/Flush so WebSockets keep working.
type statusRecorder struct {
	http.ResponseWriter
	code  int
	route string
}

// routeRecorder serves mux and tells observe's recorder the pattern the
// mux matched, so a request is routed once (observe used to match it a
// second time for its label).
func routeRecorder(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mux.ServeHTTP(w, r)
		if rec, ok := w.(*statusRecorder); ok && r.Pattern != "" {
			rec.route = r.Pattern
		}
	})
}

func (s *statusRecorder) WriteHeader(code int) {
	s.code = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func observe(log *slog.Logger, m *telemetry.Metrics, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		if r.Header.Get("Upgrade") != "" {
			next.ServeHTTP(w, r) // long-lived WebSocket: no latency histogram
			return
		}
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK, route: "unmatched"}
		next.ServeHTTP(rec, r)
		d := time.Since(start)
		route := rec.route
		m.HTTPRequests.WithLabelValues(route, r.Method, strconv.Itoa(rec.code)).Observe(d.Seconds())
		if route != "GET /metrics" && route != "GET /healthz" {
			log.InfoContext(r.Context(), "http", "method", r.Method, "route", route, "code", rec.code,
				"ms", d.Milliseconds(), "request_id", reqid.From(r.Context()))
		}
	})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
