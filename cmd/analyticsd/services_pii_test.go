package main

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/store/storetest"
)

// TestHumanSQLPIIPolicy: on the wired service an analyst's eventsQuery
// reads the PII-free relation (ANALYTICS_PII_KEYS' defaults) and an
// admin's the stored data; tenant B sees neither.
func TestHumanSQLPIIPolicy(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole service")
	}
	db := storetest.Embedded(t)
	r := startReplica(t, testConfig(t, nil), appDeps{db: db})
	at := time.Now().UTC().Add(-time.Hour)
	require.NoError(t, db.Insert(context.Background(), store.Insert{Table: "events",
		Columns: []string{"tenant_id", "event_id", "type", "user_id", "session_id", "occurred_at", "received_at", "properties"},
		Rows: [][]any{{"tenant-p", "e-pii", "user.signup", "u-1", "s-1", at, at,
			map[string]any{"Email": "someone@example.com", "course_id": "c-1"}}}}))
	const q = `{ eventsQuery(sql: "SELECT toJSONString(properties) AS p, count() AS n FROM events WHERE type = 'user.signup' GROUP BY p") { rows } }`
	for _, tc := range []struct {
		tenant string
		role   auth.Role
		want   string
	}{
		{"tenant-p", auth.RoleAnalyst, `{"course_id":"c-1"}`},
		{"tenant-p", auth.RoleAdmin, `{"Email":"someone@example.com","course_id":"c-1"}`},
		{"tenant-q", auth.RoleAdmin, ""},
	} {
		t.Run(tc.tenant+"/"+string(tc.role), func(t *testing.T) {
			var out struct {
				EventsQuery struct{ Rows [][]any } `json:"eventsQuery"`
			}
			r.gql(t, r.token(t, tc.tenant, tc.role), q, nil, &out)
			if tc.want == "" {
				assert.Empty(t, out.EventsQuery.Rows, "another tenant's row")
				return
			}
			require.Len(t, out.EventsQuery.Rows, 1)
			assert.JSONEq(t, tc.want, out.EventsQuery.Rows[0][0].(string))
		})
	}
}
