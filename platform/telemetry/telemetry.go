// Package telemetry sets up structured logs (slog, JSON) and the Prometheus
// registry the service's metrics live in. Nothing registers on the global
// registry: the composition root owns one Registry and hands it down.
package telemetry

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/learnhub/analytics-service/platform/auth"
)

// NewLogger returns a JSON logger at level ("debug", "info", "warn", "error";
// anything else means info).
func NewLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	switch strings.ToLower(level) {
	case "debug":
		l = slog.LevelDebug
	case "warn":
		l = slog.LevelWarn
	case "error":
		l = slog.LevelError
	default:
		l = slog.LevelInfo
	}
	return slog.New(traceHandler{slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l})})
}

// Metrics are the service-wide instruments.
type Metrics struct {
	Registry     *prometheus.Registry
	HTTPRequests *prometheus.HistogramVec // route, method, code
	StoreQueries *prometheus.HistogramVec // kind, outcome
	// operatorMetrics: GraphQL operations, per-tenant query time, live,
	// ad-hoc and result-cache readings (operator.go).
	*operatorMetrics
}

// NewMetrics builds a registry with Go and process collectors and the
// service's instruments.
func NewMetrics() *Metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := &Metrics{
		Registry: reg,
		HTTPRequests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "analytics", Name: "http_request_duration_seconds",
			Help:    "HTTP requests by route, method and status code.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "method", "code"}),
		StoreQueries: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "analytics", Name: "clickhouse_statement_duration_seconds",
			Help:    "ClickHouse statements by kind (query, exec, insert) and outcome (ok, error).",
			Buckets: []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"kind", "outcome"}),
	}
	reg.MustRegister(m.HTTPRequests, m.StoreQueries)
	m.operatorMetrics = newOperatorMetrics(reg)
	return m
}

// ObserveStore records one ClickHouse statement; it matches store.Options.Observe.
func (m *Metrics) ObserveStore(kind string, d time.Duration, err error) {
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	m.StoreQueries.WithLabelValues(kind, outcome).Observe(d.Seconds())
}

// ChargeStore adds a statement's time to the verified tenant in ctx
// (SystemTenant without one); it matches store.Options.Charge.
func (m *Metrics) ChargeStore(ctx context.Context, d time.Duration) {
	tenant, _ := auth.TenantFrom(ctx)
	m.ObserveTenantQuery(tenant, d)
}
