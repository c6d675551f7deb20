package api

import (
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/learnhub/analytics-service/platform/telemetry"
)

// OpsConfig wires the operations surface of a role that serves no API
// (`work`, `ingest`): probes and metrics only.
type OpsConfig struct {
	Checks  []Check
	Metrics *telemetry.Metrics
	Log     *slog.Logger
}

// NewOpsRouter serves /healthz, /readyz and /metrics — what an orchestrator
// probes and Prometheus scrapes on every replica — and nothing else: no
// GraphQL, no tokens, 404 for any other path.
func NewOpsRouter(cfg OpsConfig) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", readyz(cfg.Checks))
	mux.Handle("GET /metrics", promhttp.HandlerFor(cfg.Metrics.Registry, promhttp.HandlerOpts{}))
	var h http.Handler = routeRecorder(mux)
	h = observe(cfg.Log, cfg.Metrics, h)
	h = recoverHTTP(cfg.Log, h)
	return withRequestID(h)
}
