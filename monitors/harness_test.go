package monitors_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/demo"
	"github.com/learnhub/analytics-service/jobs/jobstest"
	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/monitors"
	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/store/storetest"
)

// demoEnd is the end of the demo period the tests use; the clock stands an
// hour after it, so every day of the period is complete.
var (
	demoEnd = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	now     = demoEnd.Add(time.Hour)
)

type env struct {
	db    *store.DB
	reg   *metrics.Registry
	svc   *monitors.Service
	queue *jobstest.Recorder
}

// setup starts an embedded engine with the schema and a Service whose
// clock stands at now.
func setup(t *testing.T) *env {
	t.Helper()
	db := storetest.Embedded(t)
	_, err := store.Migrate(context.Background(), db, store.MigrateOptions{})
	require.NoError(t, err)
	clock := func() time.Time { return now }
	reg := metrics.NewRegistry(db, metrics.Config{Now: clock})
	q := metrics.NewQuerier(db, reg, metrics.QuerierConfig{Now: clock})
	rec := &jobstest.Recorder{}
	return &env{db: db, reg: reg, queue: rec, svc: monitors.NewService(db, reg, q, monitors.Config{Now: clock, Queue: rec})}
}

// seedDemo inserts the demo data set (all three tenants, the planted drop
// in tenant demo) straight into the events table.
func seedDemo(t *testing.T, db *store.DB, learners, days int) demo.Options {
	t.Helper()
	opts := demo.Options{End: demoEnd, Learners: learners, Days: days}
	evs := demo.Generate(opts)
	rows := make([][]any, 0, len(evs))
	for _, e := range evs {
		rows = append(rows, []any{e.TenantID, e.ID, e.Type, e.UserID, e.SessionID, e.OccurredAt, e.OccurredAt, e.Properties})
	}
	for start := 0; start < len(rows); start += 100_000 {
		require.NoError(t, db.Insert(context.Background(), store.Insert{Table: "events",
			Columns: []string{"tenant_id", "event_id", "type", "user_id", "session_id", "occurred_at", "received_at", "properties"},
			Rows:    rows[start:min(start+100_000, len(rows))]}))
	}
	return opts
}
