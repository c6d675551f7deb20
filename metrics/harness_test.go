package metrics_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/store/storetest"
)

// testNow is the clock of every test: data lives in January 2026.
var testNow = time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)

// countingBackend counts the statements that return rows.
type countingBackend struct {
	store.Backend
	queries atomic.Int64
}

func (c *countingBackend) Query(ctx context.Context, st store.Statement) (store.Rows, error) {
	c.queries.Add(1)
	return c.Backend.Query(ctx, st)
}

// env is a migrated test database with a registry and queriers.
type env struct {
	db      *store.DB
	counter *countingBackend
	reg     *metrics.Registry
	q       *metrics.Querier // rollups allowed
	raw     *metrics.Querier // events table only
}

func newEnv(t *testing.T) *env {
	t.Helper()
	base := storetest.Embedded(t)
	counter := &countingBackend{Backend: base.Backend()}
	db := store.New(counter, store.Options{Mode: "embedded"})
	_, err := store.Migrate(context.Background(), db, store.MigrateOptions{})
	require.NoError(t, err)
	reg := metrics.NewRegistry(db, metrics.Config{Now: func() time.Time { return testNow }})
	return &env{
		db: db, counter: counter, reg: reg,
		q:   metrics.NewQuerier(db, reg, metrics.QuerierConfig{Now: func() time.Time { return testNow }}),
		raw: metrics.NewQuerier(db, reg, metrics.QuerierConfig{Now: func() time.Time { return testNow }, DisableRollups: true}),
	}
}

// as is a context of a verified caller of tenant with the admin role.
func as(tenant string) context.Context {
	return auth.WithPrincipal(context.Background(), auth.Principal{Subject: "tester@" + tenant, Tenant: tenant, Roles: []auth.Role{"admin"}})
}

// seed inserts n learning events for tenant in January 2026: types cycle
// through six learning types, 40 users, 5 courses, scores 0–99, seconds
// 0–599. Tenant salt shifts values so tenants differ.
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
