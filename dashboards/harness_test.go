package dashboards

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/learnhub/analytics-service/metrics/metricstest"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/cohorts"
	"github.com/learnhub/analytics-service/journeys"
	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/monitors"
	"github.com/learnhub/analytics-service/platform/kv/kvtest"
	"github.com/learnhub/analytics-service/platform/kv/rediskv"
	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/store/storetest"
	"github.com/learnhub/analytics-service/timerange"
)

// testNow is where every test's clock starts: data lives in January 2026.
var testNow = time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)

// january is the whole month of seeded data.
func january() *timerange.Spec {
	from, to := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), testNow
	return &timerange.Spec{From: &from, To: &to}
}

// clock is an injected clock tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

// countingBackend counts the statements that return rows.
type countingBackend struct {
	store.Backend
	queries atomic.Int64
	log     func(string) // set before the counted section only
	// stmt, when set, sees every counted statement (before the counted
	// section only).
	stmt func(store.Statement)
}

func (c *countingBackend) Query(ctx context.Context, st store.Statement) (store.Rows, error) {
	c.queries.Add(1)
	if c.log != nil {
		c.log(st.SQL)
	}
	if c.stmt != nil {
		c.stmt(st)
	}
	return c.Backend.Query(ctx, st)
}

// env is a migrated database, a registry, a querier and the service.
type env struct {
	db       *store.DB
	counter  *countingBackend
	clock    *clock
	reg      *metrics.Registry
	q        *metrics.Querier
	svc      *Service
	cache    redis.UniversalClient
	cohorts  *cohorts.Service
	journeys *journeys.Service
	monitors *monitors.Service
}

func newEnv(t *testing.T) *env {
	t.Helper()
	base := storetest.Embedded(t)
	counter := &countingBackend{Backend: base.Backend()}
	db := store.New(counter, store.Options{Mode: "embedded"})
	_, err := store.Migrate(context.Background(), db, store.MigrateOptions{})
	require.NoError(t, err)
	rc := redis.NewClient(&redis.Options{Addr: kvtest.StartRedis(t)})
	t.Cleanup(func() { _ = rc.Close() })
	c := &clock{t: testNow}
	reg := metrics.NewRegistry(db, metrics.Config{Now: c.Now, Locks: rediskv.New(rc)})
	q := metrics.NewQuerier(db, reg, metrics.QuerierConfig{Now: c.Now})
	loaders := func() *metrics.Loader { return metrics.NewLoader(q, metrics.LoaderConfig{Wait: 20 * time.Millisecond}) }
	cs := cohorts.NewService(db, nil, cohorts.Config{Now: c.Now})
	js := journeys.NewService(db, journeys.Config{Now: c.Now})
	ms := monitors.NewService(db, reg, q, monitors.Config{Now: c.Now})
	svc := NewService(db, reg, loaders, Config{Locks: rediskv.New(rc), Cache: rediskv.New(rc), Now: c.Now, Cohorts: cs, Journeys: js, Monitors: ms})
	return &env{db: db, counter: counter, clock: c, reg: reg, q: q, svc: svc, cache: rc, cohorts: cs, journeys: js, monitors: ms}
}

// mustScope is a scope for tenant (tests only).
func mustScope(t *testing.T, tenant string) store.Scope {
	t.Helper()
	s, err := store.DangerousScopeForTenant(tenant)
	require.NoError(t, err)
	return s
}

// as and seed are the shared fixtures, named short for the tests here.
var (
	as   = metricstest.As
	seed = metricstest.SeedJanuary
)
