// Package demotest loads the demo data straight into a test's events
// table, for tests that need realistic learner journeys without running
// the firehose (analyticsd seed publishes the same events through it).
package demotest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/demo"
	"github.com/learnhub/analytics-service/store"
)

// Seed inserts demo.Generate(opts) into db's events table, received when
// they occurred, and returns how many events each tenant got.
func Seed(t *testing.T, db *store.DB, opts demo.Options) map[string]int {
	t.Helper()
	evs := demo.Generate(opts)
	rows := make([][]any, len(evs))
	per := map[string]int{}
	for i, e := range evs {
		rows[i] = []any{e.TenantID, e.ID, e.Type, e.UserID, e.SessionID, e.OccurredAt, e.OccurredAt.Truncate(time.Millisecond), store.ValidJSON(e.Properties)}
		per[e.TenantID]++
	}
	require.NoError(t, db.Insert(context.Background(), store.Insert{Table: "events",
		Columns: []string{"tenant_id", "event_id", "type", "user_id", "session_id", "occurred_at", "received_at", "properties"}, Rows: rows}))
	return per
}
