package dashboards

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/platform/kv/kvtest"
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
}

func (c *countingBackend) Query(ctx context.Context, st store.Statement) (store.Rows, error) {
	c.queries.Add(1)
	if c.log != nil {
		c.log(st.SQL)
	}
	return c.Backend.Query(ctx, st)
}

// env is a migrated database, a registry, a querier and the service.
type env struct {
	db      *store.DB
	counter *countingBackend
	clock   *clock
	reg     *metrics.Registry
	q       *metrics.Querier
	svc     *Service
	cache   redis.UniversalClient
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
	reg := metrics.NewRegistry(db, metrics.Config{Now: c.Now, Locks: rc})
	q := metrics.NewQuerier(db, reg, metrics.QuerierConfig{Now: c.Now})
	loaders := func() *metrics.Loader { return metrics.NewLoader(q, metrics.LoaderConfig{Wait: 20 * time.Millisecond}) }
	svc := NewService(db, reg, loaders, Config{Locks: rc, Cache: rc, Now: c.Now})
	return &env{db: db, counter: counter, clock: c, reg: reg, q: q, svc: svc, cache: rc}
}

// as is a context of a verified admin of tenant.
func as(tenant string) context.Context {
	return auth.WithPrincipal(context.Background(), auth.Principal{Subject: "tester@" + tenant, Tenant: tenant, Roles: []auth.Role{"admin"}})
}

// seed inserts n learning events for tenant in January 2026 (six types,
// 40 users, 5 courses, scores 0–99, seconds 0–599).
func seed(t *testing.T, db *store.DB, tenant string, n, salt int) {
	t.Helper()
	require.NoError(t, db.Exec(context.Background(), `
		INSERT INTO events (tenant_id, event_id, type, user_id, session_id, occurred_at, received_at, properties)
		SELECT ?, concat(?, '-', toString(number)),
		       ['course.enrolled','lesson.completed','quiz.submitted','video.watched','course.completed','user.login'][(number + ?) % 6 + 1],
		       concat('u', toString((number * 7 + ?) % 40)), concat('s', toString(number % 90)),
		       toDateTime64('2026-01-01 00:00:00', 3, 'UTC') + toIntervalSecond((number * 3917 + ?) % (31 * 86400)),
		       toDateTime64('2026-02-01 00:00:00', 3, 'UTC'),
		       toJSONString(map('course_id', concat('c', toString(number % 5)), 'score', toString((number * 13 + ?) % 100), 'seconds', toString((number * 31) % 600)))
		FROM numbers(?)`, tenant, tenant, salt, salt, salt*1000, salt, n))
}

// mustScope is a scope for tenant (tests only).
func mustScope(t *testing.T, tenant string) store.Scope {
	t.Helper()
	s, err := store.DangerousScopeForTenant(tenant)
	require.NoError(t, err)
	return s
}
