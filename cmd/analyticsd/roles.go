package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/learnhub/analytics-service/api"
	"github.com/learnhub/analytics-service/demo"
	"github.com/learnhub/analytics-service/ingest"
	"github.com/learnhub/analytics-service/live"
	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/platform/config"
	"github.com/learnhub/analytics-service/resolvers"
)

// runRoles opens the adapters and runs the roles cmd names until ctx ends.
func runRoles(ctx context.Context, cmd string, cfg config.Config, seedOpts demo.Options, stdout, stderr io.Writer) error {
	a, err := openApp(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer a.close()
	if cmd == "migrate" {
		fmt.Fprintln(stdout, "migrations are up to date")
		return nil
	}
	if cmd == "seed" {
		n, err := a.seedDemo(ctx, stdout, seedOpts)
		if err == nil {
			fmt.Fprintf(stdout, "published %d demo events on the firehose; the ingest role loads them into ClickHouse\n", n)
		}
		return err
	}
	errc := make(chan error, 4)
	if cmd == "all" || cmd == "ingest" {
		if err := a.startIngest(ctx, errc); err != nil {
			return err
		}
	}
	if cmd == "all" || cmd == "work" {
		stopWork, err := a.startWork(ctx)
		if err != nil {
			return err
		}
		defer stopWork()
	}
	if cmd == "all" || cmd == "serve" {
		srv, ln, err := a.httpServer()
		if err != nil {
			return err
		}
		go func() { errc <- srv.Serve(ln) }()
		a.printWelcome(stdout, ln.Addr())
		if cmd == "all" && cfg.SeedDemo {
			go a.seedOnFirstStart(ctx, stdout)
		}
		defer func() {
			sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
			defer cancel()
			_ = srv.Shutdown(sctx)
		}()
	}
	if cmd == "work" || cmd == "ingest" {
		stopOps, err := a.startOps(errc)
		if err != nil {
			return err
		}
		defer stopOps()
	}
	a.log.Info("analyticsd started", "command", cmd, "version", version)
	select {
	case <-ctx.Done():
		a.log.Info("shutting down")
		return nil
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	}
}

// httpServer builds the GraphQL API and binds its listener (so a port in
// use fails at startup, not later).
func (a *app) httpServer() (*http.Server, net.Listener, error) {
	r := &resolvers.Resolver{
		ResultCache:      a.svc.results,
		Info:             resolvers.ServerInfo{Version: version, ClickHouseVersion: a.chVersion, Mode: a.db.Mode()},
		EventService:     a.svc.events,
		MetricRegistry:   a.svc.registry,
		MetricQuerier:    a.svc.querier,
		AdhocService:     a.svc.adhoc,
		ExportService:    a.svc.exports,
		DashboardService: a.svc.dashboards,
		ReportService:    a.svc.reports,
		InsightService:   a.svc.insights,
		AlertService:     a.svc.alerts,
		AlertFeed:        a.alertFeed(),
		CohortService:    a.svc.cohorts,
		APIKeyService:    a.apiKeys,
		JourneyService:   a.svc.journeys,
		MonitorService:   a.svc.monitors,
		PrivacyService:   a.svc.privacy,
		RetentionService: a.svc.retention,
		DeadLetterReader: ingest.NewDeadLetters(a.db),
		LiveHub:          live.NewHub(live.Config{Conn: a.bus.Conn(), Log: a.log, Tracing: a.tracing}),
	}
	// Whole responses of the polled reads, by the same data versions.
	responses := a.svc.results.Sibling()
	a.readServingGauges(r.LiveHub, a.svc.results, responses)
	gql := api.NewGraphQLHandler(api.GraphQLConfig{
		Schema:        r.Config(),
		PerOperation:  r.WithMetricsLoader,
		Verifier:      a.verifier,
		Redis:         a.kv.Client(),
		Log:           a.log,
		MaxComplexity: a.cfg.MaxComplexity,
		MaxDepth:      a.cfg.MaxDepth,
		Limits:        api.TenantLimits{Rate: float64(a.cfg.TenantRate), Burst: a.cfg.TenantBurst, Concurrency: a.cfg.TenantConcurrency},
		MaxBodyBytes:  int64(a.cfg.MaxBodyBytes),
		MaxListLength: a.cfg.MaxListLength, MaxStringBytes: a.cfg.MaxStringBytes,
		Subscriptions: api.SubscriptionLimits{PerConnection: a.cfg.WSSubscriptions, PerTenant: a.cfg.TenantSubs},
		Tracing:       a.tracing,
		Metrics:       a.metrics,
		ResponseCache: responses,
		Definitions:   a.kv,
	})
	var devToken string
	if a.devMode() {
		t, err := a.signer.Sign(auth.Principal{Subject: "dev-admin", Tenant: devTenant, Roles: []auth.Role{auth.RoleAdmin}}, devTokenTTL)
		if err != nil {
			return nil, nil, err
		}
		devToken = t
	}
	h := api.NewRouter(api.RouterConfig{
		GraphQL:  gql,
		Verifier: a.verifier,
		DevToken: devToken,
		Metrics:  a.metrics,
		Log:      a.log,
		Routes:   a.routes(),
		Checks:   a.checks(),
		Tracing:  a.tracing,
	})
	ln, err := net.Listen("tcp", a.cfg.HTTPAddr)
	if err != nil {
		return nil, nil, &config.Error{Setting: "ANALYTICS_HTTP_ADDR (--http-addr)", Msg: fmt.Sprintf("cannot listen on %s: %v", a.cfg.HTTPAddr, err)}
	}
	a.devToken = devToken
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	return srv, ln, nil
}

// printWelcome tells a person where to go. Plain lines on stdout; logs are
// JSON on stderr.
func (a *app) printWelcome(w io.Writer, addr net.Addr) {
	base := "http://" + displayAddr(addr)
	fmt.Fprintf(w, "\nanalytics-service %s is up (%s ClickHouse %s)\n", version, a.db.Mode(), a.chVersion)
	fmt.Fprintf(w, "  Console     %s/\n", base)
	fmt.Fprintf(w, "  GraphQL     %s/graphql\n", base)
	fmt.Fprintf(w, "  Playground  %s/playground\n", base)
	fmt.Fprintf(w, "  Health      %s/readyz   Metrics %s/metrics\n", base, base)
	if a.devToken != "" {
		fmt.Fprintf(w, "  Dev token   (admin, tenant %q, valid %s; pre-filled in the playground)\n\n%s\n\n", devTenant, devTokenTTL, a.devToken)
		fmt.Fprintf(w, "  Try: curl -s %s/graphql -H 'Authorization: Bearer <token>' -H 'Content-Type: application/json' \\\n", base)
		fmt.Fprintf(w, "         -d '{\"query\":\"{ viewer { tenant roles } eventTypeCounts(timeRange:{last:\\\"30d\\\"}) { type count } }\"}'\n\n")
	}
}

// displayAddr turns a wildcard listen address into one a browser can open.
func displayAddr(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return addr.String()
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

// routes are the HTTP endpoints beside GraphQL, the playground and the web
// console (api.NewRouter mounts those): ingest and blobs.
func (a *app) routes() map[string]http.Handler {
	r := map[string]http.Handler{
		"POST /v1/events": a.ingestRoute(),
	}
	if a.svc.blobRoute != nil {
		r["GET /blobs/"] = a.svc.blobRoute
	}
	return r
}

// seedOnFirstStart publishes the demo data set once: when tenant demo has no
// events yet. Ingest (running in this process) loads it within seconds.
func (a *app) seedOnFirstStart(ctx context.Context, w io.Writer) {
	seeded, err := a.demoSeeded(ctx)
	if err != nil || seeded {
		return
	}
	n, err := a.seedDemo(ctx, w, demo.Options{})
	if err != nil {
		a.log.Warn("demo seed failed", "err", err)
		return
	}
	fmt.Fprintf(w, "published %d demo events (tenants demo, acme-corp, northwind-school); they appear in queries as ingest loads them\n", n)
	a.rescoreAfterSeed(ctx, n)
}
