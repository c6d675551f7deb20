package api_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/privacy"
)

// erasureRequest is the ErasureRequest fields the privacy tests read.
type erasureRequest struct {
	ID       string `json:"id"`
	UserHash string `json:"userHash"`
	Status   string `json:"status"`
	Progress int    `json:"progress"`
	Error    string `json:"error"`
	Hot      struct {
		Events      int64 `json:"events"`
		DeadLetters int64 `json:"deadLetters"`
		CohortUsers int64 `json:"cohortUsers"`
		RollupDays  int64 `json:"rollupDays"`
	} `json:"hot"`
	Cold struct {
		Objects int64 `json:"objects"`
		Rows    int64 `json:"rows"`
	} `json:"cold"`
}

const erasureFields = `id userHash status progress error hot { events deadLetters cohortUsers rollupDays } cold { objects rows }`

// runErasureConsumer processes erasure requests until the test ends.
func (h *harness) runErasureConsumer() {
	h.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- privacy.NewConsumer(h.privacy, privacy.ConsumerConfig{Logger: slog.New(slog.DiscardHandler),
			FetchWait: 200 * time.Millisecond, RetryDelay: 200 * time.Millisecond}).Run(ctx)
	}()
	h.t.Cleanup(func() {
		cancel()
		assert.NoError(h.t, <-done)
	})
}

// erasureStatus reads erasureStatus(id) as tenant's admin; nil when null.
func (h *harness) erasureStatus(tenant, id string) *erasureRequest {
	h.t.Helper()
	res := h.query(h.token(tenant, auth.RoleAdmin), `query($id: ID!) { erasureStatus(id: $id) { `+erasureFields+` } }`, map[string]any{"id": id})
	require.Empty(h.t, res.Errors, "%+v", res.Errors)
	var out *erasureRequest
	require.NoError(h.t, json.Unmarshal(res.Data["erasureStatus"], &out))
	return out
}

func TestErasureOverGraphQL(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.runErasureConsumer()
	now := time.Now().UTC()
	h.insertUserEvents("tenant-a", "learner-1",
		event{"a1", "lesson.completed", now.Add(-time.Hour)},
		event{"a2", "lesson.completed", now.Add(-48 * time.Hour)})
	h.insertUserEvents("tenant-a", "learner-2", event{"a3", "lesson.completed", now.Add(-time.Hour)})
	h.insertUserEvents("tenant-b", "learner-1", event{"b1", "lesson.completed", now.Add(-time.Hour)})
	userEvents := func(tenant, user string) uint64 {
		var n uint64
		require.NoError(t, h.db.QueryRow(context.Background(), []any{&n},
			"SELECT count() FROM events WHERE tenant_id = ? AND user_id = ?", tenant, user))
		return n
	}
	request := `mutation($u: String!) { requestErasure(userId: $u) { ` + erasureFields + ` } }`

	res := h.query(h.token("tenant-a", auth.RoleAnalyst), request, map[string]any{"u": "learner-1"})
	assert.Equal(t, "FORBIDDEN", res.code(), "erasure is for admins")
	res = h.query(h.token("tenant-a", auth.RoleAdmin), request, map[string]any{"u": ""})
	require.Equal(t, "BAD_USER_INPUT", res.code())
	assert.Equal(t, "userId", res.Errors[0].Extensions["field"])

	res = h.query(h.token("tenant-a", auth.RoleAdmin), request, map[string]any{"u": "learner-1"})
	require.Empty(t, res.Errors, "%+v", res.Errors)
	var started erasureRequest
	require.NoError(t, json.Unmarshal(res.Data["requestErasure"], &started))
	assert.Equal(t, "REQUESTED", started.Status)
	assert.Equal(t, 0, started.Progress)
	assert.Len(t, started.UserHash, 64, "the user is named by its salted hash")
	assert.NotContains(t, string(res.Data["requestErasure"]), "learner-1")

	deadline := time.Now().Add(60 * time.Second)
	var st *erasureRequest
	for st = h.erasureStatus("tenant-a", started.ID); st == nil || st.Status != "COMPLETED"; st = h.erasureStatus("tenant-a", started.ID) {
		require.True(t, time.Now().Before(deadline), "erasure did not complete: %+v", st)
		time.Sleep(50 * time.Millisecond) // polling interval, not a wait for an event
	}
	assert.Equal(t, 100, st.Progress)
	assert.Empty(t, st.Error)
	assert.Equal(t, int64(2), st.Hot.Events)
	assert.Equal(t, int64(2), st.Hot.RollupDays)
	assert.Equal(t, started.UserHash, st.UserHash)
	assert.Equal(t, uint64(0), userEvents("tenant-a", "learner-1"))
	assert.Equal(t, uint64(1), userEvents("tenant-a", "learner-2"), "other learners stay")
	assert.Equal(t, uint64(1), userEvents("tenant-b", "learner-1"), "the same id in another tenant stays")

	// Tenant isolation: B sees neither the request nor it in its list.
	assert.Nil(t, h.erasureStatus("tenant-b", started.ID), "tenant B cannot see tenant A's erasure request")
	list := `{ erasureRequests(first: 10) { nodes { id status } pageInfo { hasNextPage } } }`
	res = h.query(h.token("tenant-b", auth.RoleAdmin), list, nil)
	require.Empty(t, res.Errors, "%+v", res.Errors)
	assert.JSONEq(t, `{"nodes":[],"pageInfo":{"hasNextPage":false}}`, string(res.Data["erasureRequests"]))
	res = h.query(h.token("tenant-a", auth.RoleAdmin), list, nil)
	require.Empty(t, res.Errors, "%+v", res.Errors)
	assert.JSONEq(t, `{"nodes":[{"id":"`+started.ID+`","status":"COMPLETED"}],"pageInfo":{"hasNextPage":false}}`, string(res.Data["erasureRequests"]))
}

func TestRangesPastTheHotHorizonAreRefused(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	old := time.Now().UTC().AddDate(-2, 0, 0).Format(time.RFC3339)
	recent := time.Now().UTC().AddDate(0, -1, 0).Format(time.RFC3339)
	cases := []struct {
		name, query, field string
		vars               map[string]any
	}{
		{"metric query", `query($from: DateTime!) { metricQuery(key: "enrolments", timeRange: {from: $from}, grain: NONE) { totals { value } } }`,
			"timeRange", map[string]any{"from": old}},
		{"metric query compared with a year before", `query($from: DateTime!) { metricQuery(key: "enrolments", timeRange: {from: $from}, grain: NONE, compareTo: PREVIOUS_YEAR) { totals { value } } }`,
			"compareTo", map[string]any{"from": recent}},
		{"events export", `mutation($from: DateTime!) { exportQuery(input: {events: {timeRange: {from: $from}}, format: CSV}) { id } }`,
			"events.timeRange", map[string]any{"from": old}},
		{"metric export", `mutation($from: DateTime!) { exportQuery(input: {metricKey: "enrolments", metricTimeRange: {from: $from}, format: CSV}) { id } }`,
			"metric.timeRange", map[string]any{"from": old}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := h.query(h.token("tenant-a", auth.RoleAnalyst), tc.query, tc.vars)
			require.Len(t, res.Errors, 1, "%+v", res.Errors)
			e := res.Errors[0]
			assert.Equal(t, "BAD_USER_INPUT", e.Extensions["code"])
			assert.Equal(t, privacy.ReasonRangeInColdTier, e.Extensions["reason"])
			assert.Equal(t, tc.field, e.Extensions["field"])
			horizon := privacy.HotHorizon(time.Now(), 0).Format(time.DateOnly)
			assert.Equal(t, horizon, e.Extensions["firstQueryableDate"])
			assert.Contains(t, e.Message, "cold tier")
			assert.Contains(t, e.Message, "start the range on or after "+horizon)
		})
	}
	res := h.query(h.token("tenant-a", auth.RoleAnalyst), `query($from: DateTime!) { metricQuery(key: "enrolments", timeRange: {from: $from}, grain: NONE) { totals { value } } }`,
		map[string]any{"from": recent})
	assert.Empty(t, res.Errors, "a range inside the hot tier is answered")
}

func TestRetentionReportOverGraphQL(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	old := privacy.HotHorizon(time.Now(), 0).AddDate(0, -3, 2)
	h.insertUserEvents("tenant-a", "learner-1", event{"a1", "lesson.completed", old}, event{"a2", "lesson.completed", old.Add(time.Hour)})
	h.insertUserEvents("tenant-b", "learner-1", event{"b1", "lesson.completed", old})
	h.insertUserEvents("tenant-a", "learner-1", event{"a3", "lesson.completed", time.Now().UTC().Add(-time.Hour)})
	const fields = `dryRun queued hotHorizon months { month rows } expiredMonths coldMonths`

	res := h.query(h.token("tenant-a", auth.RoleAnalyst), `{ retentionReport { dryRun } }`, nil)
	assert.Equal(t, "FORBIDDEN", res.code())

	res = h.query(h.token("tenant-a", auth.RoleAdmin), `{ retentionReport { `+fields+` } }`, nil)
	require.Empty(t, res.Errors, "%+v", res.Errors)
	horizon := privacy.HotHorizon(time.Now(), 0).Format(time.RFC3339)
	want := `{"dryRun":true,"queued":false,"hotHorizon":"` + horizon + `","months":[{"month":"` + old.Format("2006-01") +
		`","rows":2}],"expiredMonths":[],"coldMonths":[]}`
	assert.JSONEq(t, want, string(res.Data["retentionReport"]), "only the caller's tenant's rows are reported")

	res = h.query(h.token("tenant-a", auth.RoleAdmin), `mutation { runRetention { `+fields+` } }`, nil)
	require.Empty(t, res.Errors, "%+v", res.Errors)
	assert.JSONEq(t, want, string(res.Data["runRetention"]), "dryRun is the default")

	res = h.query(h.token("tenant-a", auth.RoleAdmin), `mutation { runRetention(dryRun: false) { dryRun queued } }`, nil)
	require.Empty(t, res.Errors, "%+v", res.Errors)
	assert.JSONEq(t, `{"dryRun":false,"queued":true}`, string(res.Data["runRetention"]), "the run is queued; the report is its plan")

	var n uint64
	require.NoError(t, h.db.QueryRow(context.Background(), []any{&n}, "SELECT count() FROM events"))
	assert.Equal(t, uint64(4), n, "nothing moved in the request itself")
}
