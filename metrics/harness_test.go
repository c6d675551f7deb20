package metrics_test

import (
	"context"
	"github.com/learnhub/analytics-service/metrics/metricstest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/store/storetest"
)

// testNow is the clock of every test: data lives in January 2026.
var testNow = time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)

// countingBackend counts the statements that return rows and keeps their
// text.
type countingBackend struct {
	store.Backend
	queries atomic.Int64
	mu      sync.Mutex
	texts   []string
}

func (c *countingBackend) Query(ctx context.Context, st store.Statement) (store.Rows, error) {
	c.queries.Add(1)
	c.mu.Lock()
	c.texts = append(c.texts, st.SQL)
	c.mu.Unlock()
	return c.Backend.Query(ctx, st)
}

// ran reports how many statements run so far contain text.
func (c *countingBackend) ran(text string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, t := range c.texts {
		if strings.Contains(t, text) {
			n++
		}
	}
	return n
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

// as and seed are the shared fixtures, named short for the tests here.
var (
	as   = metricstest.As
	seed = metricstest.SeedJanuary
)
