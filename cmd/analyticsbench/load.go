package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/learnhub/analytics-service/api"
	"github.com/learnhub/analytics-service/dashboards"
	"github.com/learnhub/analytics-service/events"
	"github.com/learnhub/analytics-service/ingest"
	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/platform/bus"
	"github.com/learnhub/analytics-service/platform/kv/rediskv"
	"github.com/learnhub/analytics-service/platform/resultcache"
	"github.com/learnhub/analytics-service/platform/telemetry"
	"github.com/learnhub/analytics-service/resolvers"
	"github.com/learnhub/analytics-service/store"
)

// The load group's shape: -load-duration per concurrency level and
// -load-events per tenant.
var (
	loadDuration = 10 * time.Second
	loadEvents   = 500_000
	loadLevels   = []int{8, 32, 64}
	loadTenants  = []string{"bench-load-a", "bench-load-b", "bench-load-c"}
)

// loadIngestBatch events per tenant are committed (and announced) every
// second during each timed level, so caches see notices as in production.
const loadIngestBatch = 100

// loadQueries are the three reads every tenant's clients send in equal
// shares: the learner-progress preset render (widget cache), the preset's
// window as a metric by day, and event counts over it.
var loadQueries = []struct{ name, body, want string }{
	{"render", `{"query":"{ dashboard(idOrSlug: \"learner-progress\") { render { widgets { widgetId error { code } results { totals { value } } } } } }"}`, `"widgets":[`},
	{"metricQuery", `{"query":"{ metricQuery(key: \"enrolments\", timeRange: {last: \"30d\"}, grain: DAY) { path totals { value } series { points { bucket value } } } }"}`, `"totals":{"value":`},
	{"eventTypeCounts", `{"query":"{ eventTypeCounts(timeRange: {last: \"30d\"}) { type count } }"}`, `"course.enrolled"`},
}

// benchLoad is the mixed load test: 3 tenants' clients in a separate
// process sending equal shares of loadQueries through the whole HTTP
// stack, at 8, 32 and 64 clients, against the server as main built it
// (no results cache, every token verified) and as it is now; while it
// runs, each tenant commits a batch every second.
func benchLoad(ctx context.Context, db *store.DB) ([]result, error) {
	start := time.Now()
	for _, tenant := range loadTenants {
		if err := loadRecentEvents(ctx, db, tenant, loadEvents); err != nil {
			return nil, err
		}
	}
	loaded := time.Since(start)
	// The closed days were bulk-written just now, so the rollup path would
	// read them from events until the nightly rebuild; rebuild them as that
	// job leaves a deployment's past days (today stays open).
	today := time.Now().UTC().Truncate(24 * time.Hour)
	for _, tenant := range loadTenants {
		if _, err := rebuildClosedDays(ctx, db, tenant, today.AddDate(0, 0, -32), today); err != nil {
			return nil, err
		}
	}
	if err := settleMerges(ctx, db, 2*time.Minute); err != nil {
		return nil, err
	}
	var out []result
	byLevel := map[int]loadResult{}
	for _, serving := range []bool{false, true} {
		srv, reqs, closeSrv, err := loadServer(ctx, db, serving)
		if err != nil {
			return nil, err
		}
		for _, clients := range loadLevels {
			stop := commitEverySecond(ctx, db, srv.bus)
			res, err := runLoadgen(ctx, loadSpec{URL: srv.url, Requests: reqs, Clients: clients, Duration: loadDuration})
			stop()
			if err != nil {
				closeSrv()
				return nil, err
			}
			if !serving {
				byLevel[clients] = res
				continue
			}
			base := byLevel[clients]
			ok := res.rate() >= 330 && res.P99 <= 150 && res.Errors == 0
			target, verdictNote := "—", ""
			if clients == 32 {
				target, verdictNote = "≥ 330 req/s, p99 ≤ 150 ms at 32 clients", verdict(ok)+"; "
			}
			out = append(out, result{
				Name:  fmt.Sprintf("load: %d clients, 3 tenants × (cached learner-progress render, metricQuery last 30d by day, eventTypeCounts last 30d), %s per level", clients, loadDuration),
				Value: fmt.Sprintf("%.0f req/s; p50 %.1f / p95 %.1f / p99 %.1f ms; %d errors", res.rate(), res.P50, res.P95, res.P99, res.Errors),
				Baseline: fmt.Sprintf("main's serving path (no results cache, every token verified): %.0f req/s; p50 %.1f / p95 %.1f / p99 %.1f ms; %d errors",
					base.rate(), base.P50, base.P95, base.P99, base.Errors),
				Ratio:  fmt.Sprintf("%.1f× req/s", res.rate()/base.rate()),
				Target: target,
				Note: verdictNote + p99ByRead(res) + fmt.Sprintf("server RSS %.0f MiB after the level; clients in a separate process; %d events per tenant over the last 30 days (loaded in %s); "+
					"closed days rebuilt after loading, as the nightly job leaves them; every tenant commits %d events with a notice each second during the run; limits raised", rssMiB(), loadEvents, loaded.Round(time.Second), loadIngestBatch),
			})
		}
		if serving {
			cached, err := benchCachedRender(ctx, srv, reqs)
			if err != nil {
				closeSrv()
				return nil, err
			}
			out = append(out, cached)
		}
		closeSrv()
	}
	return out, nil
}

// p99ByRead names each read's own p99, so a tail can be placed.
func p99ByRead(res loadResult) string {
	var parts []string
	for _, lq := range loadQueries {
		if p, ok := res.P99By[lq.name]; ok {
			parts = append(parts, fmt.Sprintf("%s %.0f", lq.name, p))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "p99 by read (ms): " + strings.Join(parts, ", ") + "; "
}

// loadTarget is a running server of the load group.
type loadTarget struct {
	url string
	bus *bus.Bus
}

// loadServer starts the serve role's HTTP stack on db: the server as main
// built it, or with the results and token caches (serving). It returns
// the server, the requests of every tenant, and a func that stops it.
func loadServer(ctx context.Context, db *store.DB, serving bool) (loadTarget, []loadRequest, func(), error) {
	mr, err := miniredis.Run()
	if err != nil {
		return loadTarget{}, nil, nil, err
	}
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	b, err := bus.Open(ctx, bus.Config{})
	if err != nil {
		return loadTarget{}, nil, nil, err
	}
	secret := []byte("load-secret-load-secret-load-secret!!")
	hv, err := auth.NewHMACVerifier(secret, auth.VerifyOptions{})
	if err != nil {
		return loadTarget{}, nil, nil, err
	}
	signer, err := auth.NewHMACSigner(secret)
	if err != nil {
		return loadTarget{}, nil, nil, err
	}
	var verifier auth.Verifier = hv
	kv := rediskv.New(rdb)
	var responses *resultcache.Cache
	reg := metrics.NewRegistry(db, metrics.Config{Locks: kv, Cache: kv})
	q := metrics.NewQuerier(db, reg, metrics.QuerierConfig{})
	r := &resolvers.Resolver{EventService: events.NewService(db), MetricRegistry: reg, MetricQuerier: q}
	if serving {
		versions := resultcache.NewVersions()
		if _, err := versions.FollowChanges(b.Conn(), ingest.NoticeSubjectPrefix+"*", ingest.NoticeChange); err != nil {
			return loadTarget{}, nil, nil, err
		}
		r.ResultCache = resultcache.New(resultcache.Config{Versions: versions})
		responses = r.ResultCache.Sibling()
		verifier = auth.NewCachingVerifier(hv, auth.TokenCacheConfig{Size: 10_000})
	}
	r.DashboardService = dashboards.NewService(db, reg, func() *metrics.Loader { return metrics.NewLoader(q, metrics.LoaderConfig{}) },
		dashboards.Config{Locks: kv, Cache: kv, ResultCache: r.ResultCache})
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	gql := api.NewGraphQLHandler(api.GraphQLConfig{Schema: r.Config(), PerOperation: r.WithMetricsLoader, Verifier: verifier, Redis: rdb, Log: log,
		Limits:        api.TenantLimits{Rate: 1e9, Burst: 1 << 30, Concurrency: 1 << 20},
		ResponseCache: responses, Definitions: kv})
	srv := httptest.NewServer(api.NewRouter(api.RouterConfig{GraphQL: gql, Verifier: verifier, Metrics: telemetry.NewMetrics(), Log: log}))
	stop := func() {
		srv.Close()
		_ = b.Close()
		_ = rdb.Close()
		mr.Close()
	}
	var reqs []loadRequest
	for _, tenant := range loadTenants {
		tok, err := signer.Sign(auth.Principal{Subject: "analyst", Tenant: tenant, Roles: []auth.Role{auth.RoleViewer}}, time.Hour)
		if err != nil {
			stop()
			return loadTarget{}, nil, nil, err
		}
		for _, lq := range loadQueries {
			reqs = append(reqs, loadRequest{Name: tenant + " " + lq.name, Path: "/graphql", Token: tok, Body: lq.body, Want: lq.want, Group: lq.name})
		}
	}
	// Every request once, so the presets and catalogs are installed and the
	// renders cached, as on a server that has been up for a while.
	for _, rq := range reqs {
		if err := send(ctx, http.DefaultClient, srv.URL, rq); err != nil {
			stop()
			return loadTarget{}, nil, nil, fmt.Errorf("warming %s: %w", rq.Name, err)
		}
	}
	return loadTarget{url: srv.URL, bus: b}, reqs, stop, nil
}

// loadRecentEvents inserts n events of tenant spread over the 30 days
// before now, 50 000 users, 20 courses.
func loadRecentEvents(ctx context.Context, db *store.DB, tenant string, n int) error {
	const chunk = 250_000 // one statement stays well inside the query time limit on a busy machine
	for off := 0; off < n; off += chunk {
		if err := loadRecentChunk(ctx, db, tenant, off, min(chunk, n-off)); err != nil {
			return err
		}
	}
	return nil
}

func loadRecentChunk(ctx context.Context, db *store.DB, tenant string, off, n int) error {
	return db.Exec(ctx, `
		INSERT INTO events (tenant_id, event_id, type, user_id, session_id, occurred_at, received_at, properties)
		SELECT ?, toString(number),
		       ['course.enrolled','lesson.started','lesson.completed','quiz.submitted','video.watched',
		        'course.completed','certificate.issued','user.login'][number % 8 + 1],
		       concat('u', toString(number % 50000)), '',
		       now64(3) - toIntervalMillisecond((number * 7919) % (30 * 86400000)),
		       now64(3),
		       concat('{"course_id":"c', toString(number % 20), '","score":', toString(number % 100), ',"seconds":', toString(number % 600), '}')
		FROM numbers(?, ?)`, tenant, off, n)
}

// commitEverySecond stands in for ingest while a level runs: each second,
// loadIngestBatch new events per tenant, then the tenant's commit notice.
func commitEverySecond(ctx context.Context, db *store.DB, b *bus.Bus) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for seq := 0; ; seq++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			for _, tenant := range loadTenants {
				// The notice says how far back the batch reaches, as ingest's do:
				// no earlier than the engine's now64(3) at the insert.
				oldest := time.Now().UTC().Add(-time.Second)
				err := db.Exec(ctx, `
					INSERT INTO events (tenant_id, event_id, type, user_id, session_id, occurred_at, received_at, properties)
					SELECT ?, concat('live-', toString(?), '-', toString(number)), 'course.enrolled', concat('u', toString(number)), '',
					       now64(3), now64(3), '{"course_id":"c1"}' FROM numbers(?)`, tenant, seq, loadIngestBatch)
				if err != nil {
					continue // a cancelled insert at the end of the level
				}
				notice, _ := json.Marshal(ingest.Notice{Tenant: tenant, Types: []string{"course.enrolled"}, Count: loadIngestBatch,
					OldestOccurredAt: oldest, NewestOccurredAt: time.Now().UTC()})
				_ = b.Conn().Publish(ingest.NoticeSubject(tenant), notice)
			}
		}
	}()
	return func() { cancel(); <-done }
}
