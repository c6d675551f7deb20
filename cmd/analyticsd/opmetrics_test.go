package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/platform/telemetry"
	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/store/chembedded"
	"github.com/learnhub/analytics-service/store/storetest"
)

// operatorMetricNames are the metrics docs/OPERATIONS.md tells operators to
// alert on; each must be on /metrics from the start.
var operatorMetricNames = []string{
	"analytics_build_info",
	"analytics_graphql_operations_total",
	"analytics_tenant_query_seconds_total",
	"analytics_queue_tasks",
	"analytics_queue_latency_seconds",
	"analytics_queue_inspect_up",
	"analytics_live_subscriptions",
	"analytics_live_refreshers",
	"analytics_adhoc_queries_running",
	"analytics_resultcache_hits_total",
	"analytics_resultcache_misses_total",
}

// TestOperatorMetrics runs the whole service and checks its /metrics as an
// operator sees it: lint-clean for promtool check metrics, every operator
// metric there at zero before any traffic, and each one moving when the
// thing it counts happens (ad-hoc queries running: adhoc's limiter test;
// queue depth by state: platform/queue's DepthCollector test).
func TestOperatorMetrics(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole service")
	}
	// The engine is shared (appDeps.db), so its statement observers are the
	// test's: they forward to the app's metrics once those exist.
	var metrics atomic.Pointer[telemetry.Metrics]
	db := store.New(storetest.EmbeddedBackend(t, chembedded.Options{}), store.Options{Mode: "embedded",
		Observe: func(kind string, d time.Duration, err error) {
			if m := metrics.Load(); m != nil {
				m.ObserveStore(kind, d, err)
			}
		},
		Charge: func(ctx context.Context, d time.Duration) {
			if m := metrics.Load(); m != nil {
				m.ChargeStore(ctx, d)
			}
		}})
	r := startReplica(t, testConfig(t, nil), appDeps{db: db})
	metrics.Store(r.app.metrics)

	body := scrape(t, r.url)
	problems, err := promlint.New(strings.NewReader(body)).Lint()
	require.NoError(t, err)
	assert.Empty(t, problems, "promtool check metrics would complain")
	for _, name := range operatorMetricNames {
		assert.Regexp(t, "(?m)^"+name+"[{ ]", body, "%s is exported from the start", name)
	}
	assert.Equal(t, 0.0, sample(t, body, `analytics_graphql_operations_total{operation="anonymous",outcome="ok",type="query"}`))
	assert.Equal(t, 0.0, sample(t, body, `analytics_queue_tasks{queue="critical",state="pending"}`))
	assert.Equal(t, 1.0, sample(t, body, `analytics_queue_inspect_up`))

	viewer := r.token(t, "tenant-m", auth.RoleViewer)
	t.Run("operations by name and outcome, tenant time, cache hits", func(t *testing.T) {
		var out map[string]any
		for range 2 { // the second is answered by the response cache
			r.gql(t, viewer, `query Counts { eventTypeCounts(timeRange: {last: "1h"}) { type count } }`, nil, &out)
		}
		res := postGraphQL(t, r.url, viewer, `query Counts { eventTypeCounts(timeRange: {last: "soon"}) { type count } }`)
		assert.Contains(t, res, "BAD_USER_INPUT")
		body := scrape(t, r.url)
		assert.Equal(t, 2.0, sample(t, body, `analytics_graphql_operations_total{operation="Counts",outcome="ok",type="query"}`))
		assert.Equal(t, 1.0, sample(t, body, `analytics_graphql_operations_total{operation="Counts",outcome="BAD_USER_INPUT",type="query"}`))
		assert.Positive(t, sample(t, body, `analytics_tenant_query_seconds_total{tenant="tenant-m"}`), "the engine time is charged to the caller's tenant")
		assert.Equal(t, 1.0, sample(t, body, `analytics_responsecache_hits_total`), "the repeated read is the kept response")
		assert.Equal(t, 2.0, sample(t, body, `analytics_responsecache_misses_total`), "the first read, and the refused one (errors are never kept)")
		assert.Positive(t, sample(t, body, `analytics_resultcache_misses_total`))
	})

	t.Run("live subscriptions and refreshers", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		ws, next := subscribe(ctx, t, r.url, viewer, `subscription Live { eventTypeCounts(timeRange: {last: "1h"}) { type count } }`)
		next()
		body := scrape(t, r.url)
		assert.Equal(t, 1.0, sample(t, body, `analytics_live_subscriptions`))
		assert.Equal(t, 1.0, sample(t, body, `analytics_live_refreshers`))
		assert.Equal(t, 1.0, sample(t, body, `analytics_graphql_operations_total{operation="Live",outcome="ok",type="subscription"}`))
		require.NoError(t, ws.Close(websocket.StatusNormalClosure, ""))
		require.Eventually(t, func() bool {
			body := scrape(t, r.url)
			return sample(t, body, `analytics_live_subscriptions`) == 0 && sample(t, body, `analytics_live_refreshers`) == 0
		}, 10*time.Second, 20*time.Millisecond, "a closed subscription leaves both gauges")
	})

	// One event through the firehose, so the ingest consumer has reported
	// its lag (its label is the consumer's name, known only once it runs).
	postEvent(t, r.url, r.token(t, "tenant-m", auth.RoleIngest), "tenant-m", "m-1", nil)
	require.Eventually(t, func() bool {
		return regexp.MustCompile(`(?m)^analytics_ingest_consumer_lag_events\{`).MatchString(scrape(t, r.url))
	}, 20*time.Second, 50*time.Millisecond, "the ingest consumer reports its lag")
	t.Run("the Grafana dashboard plots only metrics the service exports", func(t *testing.T) {
		raw, err := os.ReadFile(filepath.Join("..", "..", "deploy", "grafana", "analytics-service.json"))
		require.NoError(t, err)
		names := regexp.MustCompile(`\b(?:analytics|go|process)_[a-z_]+\b`).FindAllString(string(raw), -1)
		require.NotEmpty(t, names)
		body := scrape(t, r.url)
		for _, name := range names {
			assert.Regexp(t, "(?m)^"+name+"[{ ]", body, "the dashboard plots %s; /metrics has no such series", name)
		}
		for _, name := range operatorMetricNames[1:] {
			assert.Contains(t, names, name, "the dashboard has a panel for %s", name)
		}
	})
}

// scrape returns the text of GET /metrics.
func scrape(t *testing.T, base string) string {
	t.Helper()
	res, err := http.Get(base + "/metrics")
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return string(b)
}

// sample is the value of one series, written as the exposition format
// writes it (labels sorted by name).
func sample(t *testing.T, body, series string) float64 {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindStringSubmatch(body)
	require.NotNil(t, m, "%s not on /metrics", series)
	v, err := strconv.ParseFloat(m[1], 64)
	require.NoError(t, err)
	return v
}

// postGraphQL posts an operation and returns the raw response (errors
// allowed).
func postGraphQL(t *testing.T, base, token, query string) string {
	t.Helper()
	raw, _ := json.Marshal(map[string]any{"query": query})
	req, _ := http.NewRequest(http.MethodPost, base+"/graphql", bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b)
}
