package api

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql/playground"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/platform/reqid"
	"github.com/learnhub/analytics-service/platform/telemetry"
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
	// DevToken, when set (dev-secret mode only), is pre-filled in the
	// playground for loopback clients (see playgroundHandler).
	DevToken string
	Checks   []Check
	Metrics  *telemetry.Metrics
	Log      *slog.Logger
	// Routes adds handlers (e.g. "POST /v1/events") behind the same middleware.
	Routes map[string]http.Handler
}

// NewRouter returns the service's HTTP handler: /graphql, /playground,
// /healthz, /readyz and /metrics, behind request-id, recovery, logging and
// authentication middleware.
func NewRouter(cfg RouterConfig) http.Handler {
	mux := http.NewServeMux()
	for pattern, h := range routeTable(cfg) {
		mux.Handle(pattern, h)
	}
	var h http.Handler = mux
	h = auth.Middleware(cfg.Verifier)(h)
	h = observe(cfg.Log, cfg.Metrics, mux, h)
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
		"GET /playground":               playgroundHandler(cfg.DevToken),
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

// playgroundHandler serves the GraphQL playground. The dev admin token is
// pre-filled only for a browser on this machine: the connection comes from
// a loopback address, the Host header names loopback (a DNS-rebound page
// would carry its own host name) and no proxy header says the request was
// forwarded (a reverse proxy on this host makes every client look local).
// Everyone else gets the playground without a token.
func playgroundHandler(devToken string) http.Handler {
	plain := playground.Handler("analytics-service", "/graphql")
	if devToken == "" {
		return plain
	}
	prefilled := playground.HandlerWithHeaders("analytics-service", "/graphql", nil,
		map[string]string{"Authorization": "Bearer " + devToken})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Add("Vary", "Host")
		if localBrowser(r) {
			prefilled.ServeHTTP(w, r)
			return
		}
		plain.ServeHTTP(w, r)
	})
}

// localBrowser reports whether r comes straight from this machine.
func localBrowser(r *http.Request) bool {
	for _, h := range []string{"Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Real-Ip"} {
		if r.Header.Get(h) != "" {
			return false
		}
	}
	return isLoopbackHost(r.RemoteAddr) && isLoopbackHost(r.Host)
}

// isLoopbackHost reports whether hostport (port optional) names loopback.
func isLoopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
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

// statusRecorder remembers the status code; it forwards Hijack/Flush so
// WebSockets keep working.
type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.code = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func observe(log *slog.Logger, m *telemetry.Metrics, mux *http.ServeMux, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		_, route := mux.Handler(r)
		if route == "" {
			route = "unmatched"
		}
		if r.Header.Get("Upgrade") != "" {
			next.ServeHTTP(w, r) // long-lived WebSocket: no latency histogram
			return
		}
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		next.ServeHTTP(rec, r)
		d := time.Since(start)
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
