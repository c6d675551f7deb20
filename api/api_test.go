package api_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/adhoc"
	"github.com/learnhub/analytics-service/alerts"
	"github.com/learnhub/analytics-service/api"
	"github.com/learnhub/analytics-service/apikeys"
	"github.com/learnhub/analytics-service/cohorts"
	"github.com/learnhub/analytics-service/dashboards"
	"github.com/learnhub/analytics-service/events"
	"github.com/learnhub/analytics-service/exports"
	"github.com/learnhub/analytics-service/graph/model"
	"github.com/learnhub/analytics-service/ingest"
	"github.com/learnhub/analytics-service/jobs/jobstest"
	"github.com/learnhub/analytics-service/journeys"
	"github.com/learnhub/analytics-service/live"
	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/monitors"
	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/platform/blob"
	"github.com/learnhub/analytics-service/platform/bus"
	"github.com/learnhub/analytics-service/platform/kv/kvtest"
	"github.com/learnhub/analytics-service/platform/kv/rediskv"
	"github.com/learnhub/analytics-service/platform/queue"
	"github.com/learnhub/analytics-service/platform/resultcache"
	"github.com/learnhub/analytics-service/platform/telemetry"
	"github.com/learnhub/analytics-service/privacy"
	"github.com/learnhub/analytics-service/resolvers"
	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/store/chembedded"
	"github.com/learnhub/analytics-service/store/storetest"
)

var testSecret = []byte("0123456789abcdef0123456789abcdef-test")

// harness is a real HTTP server on a loopback port in front of the real
// GraphQL handler, backed by the embedded ClickHouse engine and a real
// redis-server (APQ).
type harness struct {
	t      *testing.T
	url    string
	db     *store.DB
	signer *auth.HMACSigner
	logs   *bytes.Buffer
	bus    *bus.Bus
	// privacy is the erasure service behind requestErasure; tests run its
	// consumer themselves.
	privacy *privacy.Service
	// exports queues into exportJobs; tests run the tasks themselves and
	// read the files from blobs.
	exports    *exports.Service
	exportJobs *jobstest.Recorder
	blobs      blob.Store
	// monitors is the service behind the monitor fields; tests evaluate it.
	monitors *monitors.Service
	// engine counts the statements the engine ran; results and versions
	// are the results cache and the tenant data versions it follows.
	engine  *countingBackend
	results *resultcache.Cache
	// responses keeps whole GraphQL responses (api/respcache.go).
	responses *resultcache.Cache
	versions  *resultcache.Versions
	// alertFeed serves alertEvents; tests wait for its subscribers.
	alertFeed *alerts.Feed
}

type harnessOpts struct {
	limits        api.TenantLimits
	subscriptions api.SubscriptionLimits
	maxComplexity int
	maxDepth      int
	// hasRole replaces the @hasRole directive (the panic test uses it).
	hasRole func(ctx context.Context, obj any, next graphql.Resolver, role model.Role) (any, error)
	// reviewer is the monitors' LLM reviewer; nil means the AI gateway is off.
	reviewer *monitors.Reviewer
	// dashboardResults puts dashboard widgets on the results cache, as
	// analyticsd does (otherwise they use the Redis TTL cache).
	dashboardResults bool
}

func newHarness(t *testing.T, o harnessOpts) *harness {
	t.Helper()
	ctx := context.Background()
	engine := &countingBackend{Backend: storetest.EmbeddedBackend(t, chembedded.Options{})}
	db := store.New(engine, store.Options{Mode: "embedded"})
	_, err := store.Migrate(ctx, db, store.MigrateOptions{})
	require.NoError(t, err)

	rdb := redis.NewClient(&redis.Options{Addr: kvtest.StartRedis(t)})
	t.Cleanup(func() { _ = rdb.Close() })

	jwt, err := auth.NewHMACVerifier(testSecret, auth.VerifyOptions{})
	require.NoError(t, err)
	keys := apikeys.NewService(db)
	verifier := &apikeys.Verifier{Keys: keys, Next: jwt, TTL: 200 * time.Millisecond}
	signer, err := auth.NewHMACSigner(testSecret)
	require.NoError(t, err)

	registry := metrics.NewRegistry(db, metrics.Config{Locks: rediskv.New(rdb), Cache: rediskv.New(rdb)})
	checkRange := privacy.RangeCheck(privacy.DefaultHotMonths, nil)
	querier := metrics.NewQuerier(db, registry, metrics.QuerierConfig{CheckRange: checkRange})
	nats, err := bus.Open(ctx, bus.Config{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = nats.Close() })
	blobs, err := blob.NewLocal(blob.LocalConfig{Dir: t.TempDir(), BaseURL: "http://localhost/blobs", Secret: testSecret})
	require.NoError(t, err)
	cohortService := cohorts.NewService(db, nats, cohorts.Config{Locks: rediskv.New(rdb)})
	exportJobs := &jobstest.Recorder{}
	monitorService := monitors.NewService(db, registry, querier, monitors.Config{Reviewer: o.reviewer})
	journeyService := journeys.NewService(db, journeys.Config{})
	exp, err := exports.NewService(exports.Deps{DB: db, Blobs: blobs, Jobs: exportJobs, Bus: nats,
		Metrics: querier, SQL: adhoc.NewService(db, adhoc.Config{}), Cohorts: cohortService, Journeys: journeyService}, exports.Config{CheckRange: checkRange})
	require.NoError(t, err)
	priv := privacy.NewService(db, nats, blobs, privacy.Config{Logger: slog.New(slog.DiscardHandler), Rollups: metrics.NewRollups(db)})
	versions := resultcache.NewVersions()
	_, err = versions.FollowChanges(nats.Conn(), ingest.NoticeSubjectPrefix+"*", ingest.NoticeChange)
	require.NoError(t, err)
	results := resultcache.New(resultcache.Config{Versions: versions})
	responses := results.Sibling()
	var dashResults *resultcache.Cache
	if o.dashboardResults {
		dashResults = results
	}
	r := &resolvers.Resolver{
		ResultCache:    results,
		Info:           resolvers.ServerInfo{Version: "test", ClickHouseVersion: "26.7", Mode: "embedded"},
		EventService:   events.NewService(db),
		MetricRegistry: registry,
		MetricQuerier:  querier,
		AdhocService:   adhoc.NewService(db, adhoc.Config{}),
		ExportService:  exp,
		DashboardService: dashboards.NewService(db, registry, func() *metrics.Loader { return metrics.NewLoader(querier, metrics.LoaderConfig{}) },
			dashboards.Config{Locks: rediskv.New(rdb), Cache: rediskv.New(rdb), Cohorts: cohortService, Journeys: journeyService, Monitors: monitorService,
				ResultCache: dashResults}),
		DeadLetterReader: ingest.NewDeadLetters(db),
		LiveHub:          live.NewHub(live.Config{Conn: nats.Conn()}),
		CohortService:    cohortService,
		APIKeyService:    keys,
		JourneyService:   journeyService,
		MonitorService:   monitorService,
		PrivacyService:   priv,
		RetentionService: privacy.NewRetention(db, blobs, queue.NewClient(rdb, queue.ClientConfig{}), privacy.RetentionConfig{}),
		MinPollInterval:  100 * time.Millisecond,
	}
	r.ReportService = reportService(t, db, blobs, queue.NewClient(rdb, queue.ClientConfig{}), nats, r.DashboardService, querier)
	r.InsightService = insightService(t, db, registry, querier, cohortService, rdb)
	r.AlertService, r.AlertFeed = alertServices(t, db, nats, querier)
	cfg := r.Config()
	if o.hasRole != nil {
		cfg.Directives.HasRole = o.hasRole
	}
	logs := &bytes.Buffer{}
	log := slog.New(slog.NewJSONHandler(logs, nil))
	gql := api.NewGraphQLHandler(api.GraphQLConfig{
		Schema: cfg, Verifier: verifier, Redis: rdb, Log: log,
		MaxComplexity: o.maxComplexity, MaxDepth: o.maxDepth, PerOperation: r.WithMetricsLoader, Limits: o.limits,
		Subscriptions: o.subscriptions,
		ResponseCache: responses, Definitions: rediskv.New(rdb),
	})
	srv := httptest.NewServer(api.NewRouter(api.RouterConfig{
		GraphQL: gql, Verifier: verifier, Metrics: telemetry.NewMetrics(), Log: log,
		Checks: []api.Check{{Name: "clickhouse", Probe: db.Ping}, {Name: "redis", Probe: func(ctx context.Context) error { return rdb.Ping(ctx).Err() }}},
		Routes: ingestRoutes(nats, db),
	}))
	t.Cleanup(srv.Close)
	return &harness{t: t, url: srv.URL, db: db, signer: signer, logs: logs, bus: nats, privacy: priv,
		exports: exp, exportJobs: exportJobs, blobs: blobs, monitors: monitorService, engine: engine, results: results, responses: responses, versions: versions,
		alertFeed: r.AlertFeed}
}

func (h *harness) token(tenant string, role auth.Role) string {
	h.t.Helper()
	tok, err := h.signer.Sign(auth.Principal{Subject: "u-" + tenant, Tenant: tenant, Roles: []auth.Role{role}}, time.Hour)
	require.NoError(h.t, err)
	return tok
}

type gqlResponse struct {
	Data   map[string]json.RawMessage `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
}

func (r gqlResponse) code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

func (h *harness) post(token string, body map[string]any) gqlResponse {
	h.t.Helper()
	raw, err := json.Marshal(body)
	require.NoError(h.t, err)
	res := h.rest(http.MethodPost, "/graphql", token, string(raw))
	var gr gqlResponse
	require.NoError(h.t, json.Unmarshal(res.body, &gr), string(res.body))
	return gr
}

func (h *harness) query(token, q string, vars map[string]any) gqlResponse {
	h.t.Helper()
	return h.post(token, map[string]any{"query": q, "variables": vars})
}

// insertEvents writes events straight into the events table (the firehose
// is not under test here) and announces them as the ingest sink does.
func (h *harness) insertEvents(tenant string, evs ...event) {
	h.t.Helper()
	h.insertUserEvents(tenant, "user-1", evs...)
}

// insertUserEvents is insertEvents for the events of user.
func (h *harness) insertUserEvents(tenant, user string, evs ...event) {
	h.t.Helper()
	rows := make([][]any, len(evs))
	for i, e := range evs {
		rows[i] = []any{tenant, e.id, e.typ, user, "", e.at, e.at, map[string]any{}}
	}
	require.NoError(h.t, h.db.Insert(context.Background(), store.Insert{
		Table:   "events",
		Columns: []string{"tenant_id", "event_id", "type", "user_id", "session_id", "occurred_at", "received_at", "properties"},
		Rows:    rows,
	}))
	h.announce(tenant)
}

type event struct {
	id  string
	typ string
	at  time.Time
}

func TestViewerRequiresToken(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	res := h.query(h.token("demo", auth.RoleViewer), `{ viewer { subject tenant roles } }`, nil)
	require.Empty(t, res.Errors)
	assert.JSONEq(t, `{"subject":"u-demo","tenant":"demo","roles":["VIEWER"]}`, string(res.Data["viewer"]))

	res = h.query("", `{ viewer { tenant } }`, nil)
	assert.Equal(t, "UNAUTHENTICATED", res.code())

	res = h.query("not-a-jwt", `{ viewer { tenant } }`, nil)
	assert.Equal(t, "UNAUTHENTICATED", res.code())
	assert.NotEmpty(t, res.Errors[0].Message)

	other, err := auth.NewHMACSigner([]byte("another-secret-another-secret-0123456789"))
	require.NoError(t, err)
	forged, err := other.Sign(auth.Principal{Subject: "x", Tenant: "demo", Roles: []auth.Role{auth.RoleAdmin}}, time.Hour)
	require.NoError(t, err)
	res = h.query(forged, `{ viewer { tenant } }`, nil)
	assert.Equal(t, "UNAUTHENTICATED", res.code(), "a token signed with another secret must be refused")
}

func TestRoles(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	res := h.query(h.token("demo", auth.RoleViewer), `{ serverInfo { version mode } }`, nil)
	assert.Equal(t, "FORBIDDEN", res.code())
	assert.Contains(t, res.Errors[0].Message, "admin")

	res = h.query(h.token("demo", auth.RoleAdmin), `{ serverInfo { version clickhouseVersion mode } }`, nil)
	require.Empty(t, res.Errors)
	assert.JSONEq(t, `{"version":"test","clickhouseVersion":"26.7","mode":"embedded"}`, string(res.Data["serverInfo"]))
}

func TestEventTypeCountsIsTenantScoped(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	now := time.Now().UTC()
	h.insertEvents("tenant-a",
		event{"a1", "lesson.completed", now.Add(-time.Hour)},
		event{"a2", "lesson.completed", now.Add(-2 * time.Hour)},
		event{"a3", "user.login", now.Add(-3 * time.Hour)},
		event{"a-old", "user.login", now.Add(-40 * 24 * time.Hour)},
	)
	h.insertEvents("tenant-a", event{"a1", "lesson.completed", now.Add(-time.Hour)}) // redelivered duplicate
	h.insertEvents("tenant-b", event{"b1", "quiz.submitted", now.Add(-time.Hour)})

	q := `query($r: TimeRange!) { eventTypeCounts(timeRange: $r) { type count } }`
	last30 := map[string]any{"r": map[string]any{"last": "30d"}}

	res := h.query(h.token("tenant-a", auth.RoleViewer), q, last30)
	require.Empty(t, res.Errors)
	assert.JSONEq(t, `[{"type":"lesson.completed","count":2},{"type":"user.login","count":1}]`, string(res.Data["eventTypeCounts"]))

	res = h.query(h.token("tenant-b", auth.RoleViewer), q, last30)
	require.Empty(t, res.Errors)
	assert.JSONEq(t, `[{"type":"quiz.submitted","count":1}]`, string(res.Data["eventTypeCounts"]), "tenant B must see only its own rows")

	res = h.query(h.token("tenant-c", auth.RoleAdmin), q, last30)
	require.Empty(t, res.Errors)
	assert.JSONEq(t, `[]`, string(res.Data["eventTypeCounts"]))

	from := now.Add(-50 * 24 * time.Hour).Format(time.RFC3339)
	to := now.Add(-30 * 24 * time.Hour).Format(time.RFC3339)
	res = h.query(h.token("tenant-a", auth.RoleViewer), q, map[string]any{"r": map[string]any{"from": from, "to": to}})
	require.Empty(t, res.Errors)
	assert.JSONEq(t, `[{"type":"user.login","count":1}]`, string(res.Data["eventTypeCounts"]))
}

func TestEventTypeCountsRejectsBadRanges(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	q := `query($r: TimeRange!) { eventTypeCounts(timeRange: $r) { type count } }`
	for _, tc := range []struct {
		r     map[string]any
		field string
	}{
		{map[string]any{}, "timeRange"},
		{map[string]any{"last": "30d", "from": "2026-01-01T00:00:00Z"}, "timeRange"},
		{map[string]any{"last": "thirty days"}, "timeRange.last"},
		{map[string]any{"from": "2026-02-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}, "timeRange.to"},
	} {
		res := h.query(h.token("demo", auth.RoleViewer), q, map[string]any{"r": tc.r})
		require.NotEmpty(t, res.Errors, "%v", tc.r)
		assert.Equal(t, "BAD_USER_INPUT", res.code())
		assert.Equal(t, tc.field, res.Errors[0].Extensions["field"])
	}
}

func TestLimits(t *testing.T) {
	h := newHarness(t, harnessOpts{maxComplexity: 3, maxDepth: 2})
	tok := h.token("demo", auth.RoleAdmin)

	res := h.query(tok, `{ viewer { tenant } }`, nil)
	require.Empty(t, res.Errors)

	res = h.query(tok, `{ viewer { tenant subject roles } serverInfo { version mode } }`, nil)
	require.Equal(t, "BAD_USER_INPUT", res.code())
	assert.Contains(t, res.Errors[0].Message, "complexity")
	assert.EqualValues(t, 3, res.Errors[0].Extensions["limit"])
	assert.Greater(t, res.Errors[0].Extensions["complexity"], float64(3))

	res = h.query(tok, `query { viewer { tenant ... on Viewer { roles } } a: viewer { tenant } }`, nil)
	require.Equal(t, "BAD_USER_INPUT", res.code(), "aliases add complexity too")
}

func TestIntrospectionIsForAdmins(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	q := `{ __schema { queryType { name } } }`
	res := h.query(h.token("demo", auth.RoleAdmin), q, nil)
	require.Empty(t, res.Errors)
	assert.JSONEq(t, `{"queryType":{"name":"Query"}}`, string(res.Data["__schema"]))

	res = h.query(h.token("demo", auth.RoleViewer), q, nil)
	require.NotEmpty(t, res.Errors)
	res = h.query("", q, nil)
	require.NotEmpty(t, res.Errors)
}

func TestSuggestionsAreOff(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	res := h.query(h.token("demo", auth.RoleAdmin), `{ viewr { tenant } }`, nil)
	require.NotEmpty(t, res.Errors)
	assert.NotContains(t, res.Errors[0].Message, "Did you mean")
}

func TestPersistedQueries(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	tok := h.token("demo", auth.RoleViewer)
	q := `{ viewer { tenant } }`
	sum := sha256.Sum256([]byte(q))
	ext := map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hex.EncodeToString(sum[:])}}

	res := h.post(tok, map[string]any{"extensions": ext})
	require.NotEmpty(t, res.Errors)
	assert.Equal(t, "PERSISTED_QUERY_NOT_FOUND", res.code())

	res = h.post(tok, map[string]any{"query": q, "extensions": ext})
	require.Empty(t, res.Errors)

	res = h.post(tok, map[string]any{"extensions": ext})
	require.Empty(t, res.Errors, "the hash alone must now be enough")
	assert.JSONEq(t, `{"tenant":"demo"}`, string(res.Data["viewer"]))
}

// TestPanicIsRecovered proves that, with the embedded engine loaded in this
// process, a nil dereference in a resolver becomes an INTERNAL error and the
// server keeps serving (chDB's signal handlers would otherwise kill the
// process with SIGSEGV; see DESIGN.md §7).
func TestPanicIsRecovered(t *testing.T) {
	h := newHarness(t, harnessOpts{hasRole: func(ctx context.Context, obj any, next graphql.Resolver, role model.Role) (any, error) {
		if p, _ := auth.PrincipalFrom(ctx); p.Subject == "u-boom" {
			var nilPrincipal *auth.Principal
			return nilPrincipal.Tenant, nil // nil dereference
		}
		return resolvers.HasRole(ctx, obj, next, role)
	}})
	require.NoError(t, h.db.Ping(context.Background()), "the engine must be up before the panic")

	res := h.query(h.token("boom", auth.RoleViewer), `{ viewer { tenant } }`, nil)
	require.NotEmpty(t, res.Errors)
	assert.Equal(t, "INTERNAL", res.code())
	assert.NotContains(t, res.Errors[0].Message, "nil pointer", "panic text must not leak")
	assert.Contains(t, h.logs.String(), "nil pointer dereference", "the panic is logged")

	res = h.query(h.token("demo", auth.RoleViewer), `{ viewer { tenant } }`, nil)
	require.Empty(t, res.Errors, "the server keeps serving")
}

func TestHealthReadinessMetrics(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	for path, want := range map[string]string{
		"/healthz":    `"status":"ok"`,
		"/readyz":     `"clickhouse":"ok"`,
		"/playground": `<div id="graphiql">`,
	} {
		res, err := http.Get(h.url + path)
		require.NoError(t, err)
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		assert.Equal(t, http.StatusOK, res.StatusCode, path)
		assert.Contains(t, string(body), want, path)
		assert.NotEmpty(t, res.Header.Get("X-Request-Id"))
	}
	res, err := http.Get(h.url + "/metrics")
	require.NoError(t, err)
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	assert.True(t, strings.Contains(string(body), "analytics_http_request_duration_seconds"))
}

func TestTenantRateLimit(t *testing.T) {
	h := newHarness(t, harnessOpts{limits: api.TenantLimits{Rate: 1, Burst: 3}})
	q := `{ viewer { tenant } }`
	for i := range 3 {
		res := h.query(h.token("noisy", auth.RoleViewer), q, nil)
		require.Empty(t, res.Errors, "request %d is within the burst", i)
	}
	res := h.query(h.token("noisy", auth.RoleViewer), q, nil)
	require.Equal(t, "RATE_LIMITED", res.code())
	assert.EqualValues(t, 1, res.Errors[0].Extensions["retryAfterSeconds"])
	res = h.query(h.token("quiet", auth.RoleViewer), q, nil)
	assert.Empty(t, res.Errors, "another tenant has its own budget")
}

func TestTenantConcurrencySlotsAreReleased(t *testing.T) {
	h := newHarness(t, harnessOpts{limits: api.TenantLimits{Rate: 1000, Burst: 1000, Concurrency: 1}})
	for i := range 20 {
		res := h.query(h.token("serial", auth.RoleViewer), `{ viewer { tenant } }`, nil)
		require.Empty(t, res.Errors, "request %d: a finished operation must free its slot", i)
	}
}
