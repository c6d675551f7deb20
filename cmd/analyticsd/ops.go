package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/learnhub/analytics-service/api"
	"github.com/learnhub/analytics-service/platform/config"
)

// checks are the dependencies /readyz probes on every role.
func (a *app) checks() []api.Check {
	return []api.Check{
		{Name: "clickhouse", Probe: a.db.Ping},
		{Name: "redis", Probe: a.kv.Ping},
		{Name: "nats", Probe: a.bus.Ping},
	}
}

// startOps serves /healthz, /readyz and /metrics on ANALYTICS_HTTP_ADDR for
// the roles that serve no API (work, ingest), so every replica can be probed
// and scraped the same way. It returns a function that shuts it down.
func (a *app) startOps(errc chan<- error) (func(), error) {
	ln, err := net.Listen("tcp", a.cfg.HTTPAddr)
	if err != nil {
		return nil, &config.Error{Setting: "ANALYTICS_HTTP_ADDR (--http-addr)", Msg: fmt.Sprintf("cannot listen on %s for /healthz, /readyz and /metrics: %v", a.cfg.HTTPAddr, err)}
	}
	srv := &http.Server{Handler: api.NewOpsRouter(api.OpsConfig{Checks: a.checks(), Metrics: a.metrics, Log: a.log}), ReadHeaderTimeout: 10 * time.Second}
	go func() { errc <- srv.Serve(ln) }()
	a.log.Info("operations endpoints", "addr", ln.Addr().String(), "paths", "/healthz /readyz /metrics")
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownTimeout)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, nil
}
