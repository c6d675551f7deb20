package api_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/platform/auth"
)

func TestCohortsOverGraphQL(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	now := time.Now().UTC()
	h.insertEvents("tenant-a", event{"a1", "quiz.submitted", now.Add(-time.Hour)}, event{"a2", "user.login", now.Add(-time.Hour)})
	h.insertEvents("tenant-b", event{"b1", "quiz.submitted", now.Add(-time.Hour)})
	admin := h.token("tenant-a", auth.RoleAdmin)

	create := `mutation($in: CohortInput!) { createCohort(input: $in) { id version criteria } }`
	in := map[string]any{"in": map[string]any{"name": "Quizzers", "active": true,
		"criteria": map[string]any{"performed": map[string]any{"type": "quiz.submitted", "count": 1, "within": "7d"}}}}
	res := h.query(h.token("tenant-a", auth.RoleViewer), create, in)
	assert.Equal(t, "FORBIDDEN", res.code())

	res = h.query(admin, create, map[string]any{"in": map[string]any{"name": "Typo", "criteria": map[string]any{"performd": map[string]any{}}}})
	require.Equal(t, "BAD_USER_INPUT", res.code())
	assert.Equal(t, "input.criteria", res.Errors[0].Extensions["field"])

	res = h.query(admin, create, in)
	require.Empty(t, res.Errors, "%+v", res.Errors)
	var c struct{ ID string }
	require.NoError(t, json.Unmarshal(res.Data["createCohort"], &c))

	mq := `query($c: [CohortFilterInput!], $b: ID) { metricQuery(key: "active_learners_dau", timeRange: {last: "1d"}, grain: NONE, cohorts: $c, cohortBreakdown: $b) {
		dimensions totals { value } series { values total { value } } notices } }`
	res = h.query(h.token("tenant-a", auth.RoleViewer), mq, map[string]any{"c": []any{map[string]any{"id": c.ID}}})
	require.Empty(t, res.Errors, "%+v", res.Errors)
	assert.Contains(t, string(res.Data["metricQuery"]), `"totals":{"value":0}`, "not evaluated yet: no members")
	assert.Contains(t, string(res.Data["metricQuery"]), "no successful evaluation yet")

	res = h.query(h.token("tenant-a", auth.RoleAnalyst), `mutation($id: ID!) { evaluateCohort(id: $id) { size entered exited error } }`, map[string]any{"id": c.ID})
	require.Empty(t, res.Errors, "%+v", res.Errors)
	assert.JSONEq(t, `{"size":1,"entered":1,"exited":0,"error":null}`, string(res.Data["evaluateCohort"]))

	q := `query($id: ID!) { cohort(id: $id) { name size members(first: 10) { userIds hasNextPage } sizeHistory { size } } }`
	res = h.query(h.token("tenant-a", auth.RoleViewer), q, map[string]any{"id": c.ID})
	require.Empty(t, res.Errors, "%+v", res.Errors)
	assert.JSONEq(t, `{"name":"Quizzers","size":1,"members":{"userIds":["user-1"],"hasNextPage":false},"sizeHistory":[{"size":1}]}`, string(res.Data["cohort"]))

	res = h.query(h.token("tenant-a", auth.RoleViewer), mq, map[string]any{"c": []any{map[string]any{"id": c.ID}}})
	require.Empty(t, res.Errors, "%+v", res.Errors)
	assert.JSONEq(t, `{"dimensions":[],"totals":{"value":1},"series":[{"values":[],"total":{"value":1}}],"notices":[]}`, string(res.Data["metricQuery"]))
	res = h.query(h.token("tenant-a", auth.RoleViewer), mq, map[string]any{"c": []any{map[string]any{"id": c.ID, "member": false}}})
	require.Empty(t, res.Errors, "%+v", res.Errors)
	assert.Contains(t, string(res.Data["metricQuery"]), `"totals":{"value":0}`, "user-1 is in the cohort")
	res = h.query(h.token("tenant-a", auth.RoleViewer), mq, map[string]any{"b": c.ID})
	require.Empty(t, res.Errors, "%+v", res.Errors)
	assert.JSONEq(t, `{"dimensions":["cohort"],"totals":{"value":1},"series":[{"values":["in cohort"],"total":{"value":1}}],"notices":[]}`, string(res.Data["metricQuery"]))
	res = h.query(h.token("tenant-a", auth.RoleViewer), `query($id: ID!) { cohort(id: $id) { sizeHistory { version } } }`, map[string]any{"id": c.ID})
	require.Empty(t, res.Errors, "%+v", res.Errors)
	var hist struct {
		SizeHistory []struct{ Version json.Number }
	}
	require.NoError(t, json.Unmarshal(res.Data["cohort"], &hist))
	require.Len(t, hist.SizeHistory, 1)
	changes := `query($id: ID!, $v: Int64!, $d: CohortChangeDirection!) { cohort(id: $id) { changes(version: $v, direction: $d, first: 1) { userIds hasNextPage } } }`
	res = h.query(h.token("tenant-a", auth.RoleViewer), changes, map[string]any{"id": c.ID, "v": hist.SizeHistory[0].Version, "d": "ENTERED"})
	require.Empty(t, res.Errors, "%+v", res.Errors)
	assert.JSONEq(t, `{"changes":{"userIds":["user-1"],"hasNextPage":false}}`, string(res.Data["cohort"]))
	res = h.query(h.token("tenant-a", auth.RoleViewer), changes, map[string]any{"id": c.ID, "v": hist.SizeHistory[0].Version, "d": "EXITED"})
	require.Empty(t, res.Errors, "%+v", res.Errors)
	assert.JSONEq(t, `{"changes":{"userIds":[],"hasNextPage":false}}`, string(res.Data["cohort"]))

	res = h.query(h.token("tenant-b", auth.RoleViewer), mq, map[string]any{"c": []any{map[string]any{"id": c.ID}}})
	require.Equal(t, "NOT_FOUND", res.code(), "tenant B cannot filter by tenant A's cohort")
	assert.Equal(t, "cohorts[0].id", res.Errors[0].Extensions["field"])

	res = h.query(h.token("tenant-b", auth.RoleAdmin), q, map[string]any{"id": c.ID})
	require.Empty(t, res.Errors)
	assert.JSONEq(t, `null`, string(res.Data["cohort"]), "tenant B cannot see tenant A's cohort")
	res = h.query(h.token("tenant-b", auth.RoleAdmin), `mutation($id: ID!) { evaluateCohort(id: $id) { size } }`, map[string]any{"id": c.ID})
	assert.Equal(t, "NOT_FOUND", res.code(), "nor evaluate it")
}

// enrolmentCohort seeds enrolments in the last hours (tenant-a: user-1
// two, user-2 one; tenant-b: user-1 one) and returns the id of tenant-a's
// evaluated static cohort {user-1}.
func (h *harness) enrolmentCohort() string {
	h.t.Helper()
	now := time.Now().UTC()
	h.insertUserEvents("tenant-a", "user-1", event{"a1", "course.enrolled", now.Add(-time.Hour)}, event{"a2", "course.enrolled", now.Add(-2 * time.Hour)})
	h.insertUserEvents("tenant-a", "user-2", event{"a3", "course.enrolled", now.Add(-time.Hour)})
	h.insertUserEvents("tenant-b", "user-1", event{"b1", "course.enrolled", now.Add(-time.Hour)})
	admin := h.token("tenant-a", auth.RoleAdmin)
	res := h.query(admin, `mutation { createCohort(input: {name: "One", staticUsers: ["user-1"]}) { id } }`, nil)
	require.Empty(h.t, res.Errors, "%+v", res.Errors)
	var c struct{ ID string }
	require.NoError(h.t, json.Unmarshal(res.Data["createCohort"], &c))
	res = h.query(admin, `mutation($id: ID!) { evaluateCohort(id: $id) { size } }`, map[string]any{"id": c.ID})
	require.Empty(h.t, res.Errors, "%+v", res.Errors)
	require.JSONEq(h.t, `{"size":1}`, string(res.Data["evaluateCohort"]))
	return c.ID
}
