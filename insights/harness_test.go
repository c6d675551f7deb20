package insights_test

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/adhoc"
	"github.com/learnhub/analytics-service/cohorts"
	"github.com/learnhub/analytics-service/demo"
	"github.com/learnhub/analytics-service/events"
	"github.com/learnhub/analytics-service/insights"
	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/platform/bus"
	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/store/storetest"
)

// demoEnd ends the seeded demo period; the planted drop is in March 2026.
var demoEnd = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

// demoOpts are the demo data of these tests: the default learners and days.
var demoOpts = demo.Options{End: demoEnd}

// finishers is the behavioural cohort the harness creates for tenant demo.
const finishers = "Course finishers"

// harness is a migrated embedded database holding the demo data set, the
// tools over it and a cohort of tenant demo evaluated at demoEnd.
type harness struct {
	db    *store.DB
	tools *insights.Tools
	bus   *bus.Bus // in-process NATS JetStream
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	ctx := context.Background()
	db := storetest.Embedded(t)
	_, err := store.Migrate(ctx, db, store.MigrateOptions{})
	require.NoError(t, err)
	seedDemo(t, db)
	b, err := bus.Open(ctx, bus.Config{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close() })
	now := func() time.Time { return demoEnd }
	reg := metrics.NewRegistry(db, metrics.Config{Now: now})
	coh := cohorts.NewService(db, b, cohorts.Config{Now: now, Metrics: reg})
	h := &harness{db: db, bus: b, tools: &insights.Tools{Registry: reg, Querier: metrics.NewQuerier(db, reg, metrics.QuerierConfig{Now: now}),
		Events: events.NewService(db), SQL: adhoc.NewService(db, adhoc.Config{PIIKeys: gatewayPIIKeys, PII: adhoc.PIIHidden}), Cohorts: coh, Now: now}}
	c, err := coh.Create(as("demo", auth.RoleAdmin), cohorts.Cohort{Name: finishers,
		Criteria: &cohorts.Criteria{Performed: &cohorts.Performed{Type: "course.completed", Count: 1}}})
	require.NoError(t, err)
	_, err = coh.Evaluate(as("demo", auth.RoleAdmin), c.ID, demoEnd)
	require.NoError(t, err)
	return h
}

// seedDemo inserts the demo events straight into the events table.
func seedDemo(t *testing.T, db *store.DB) {
	t.Helper()
	evs := demo.Generate(demoOpts)
	cols := []string{"tenant_id", "event_id", "type", "user_id", "session_id", "occurred_at", "received_at", "properties"}
	for start := 0; start < len(evs); start += 100_000 {
		batch := evs[start:min(start+100_000, len(evs))]
		rows := make([][]any, len(batch))
		for i, e := range batch {
			props := map[string]any{}
			require.NoError(t, json.Unmarshal(e.Properties, &props))
			rows[i] = []any{e.TenantID, e.ID, e.Type, e.UserID, e.SessionID, e.OccurredAt, e.OccurredAt, props}
		}
		require.NoError(t, db.Insert(context.Background(), store.Insert{Table: "events", Columns: cols, Rows: rows}))
	}
}

// as is a context of a verified user of tenant with role.
func as(tenant string, role auth.Role) context.Context {
	return auth.WithPrincipal(context.Background(), auth.Principal{Subject: string(role) + "@" + tenant, Tenant: tenant, Roles: []auth.Role{role}})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
