package api_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/platform/auth"
)

func TestDashboardRenderIsTenantScoped(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	now := time.Now().UTC()
	h.insertEvents("tenant-a", event{"a1", "course.enrolled", now.Add(-time.Hour)}, event{"a2", "course.enrolled", now.Add(-2 * time.Hour)})
	h.insertEvents("tenant-b", event{"b1", "course.enrolled", now.Add(-time.Hour)})

	q := `{ dashboard(idOrSlug: "learner-progress") { id slug widgets { id kind metricKeys }
	        render(timeRange: {last: "7d"}) { widgets { widgetId error { code } results { metric { key } totals { value } } } } } }`
	type render struct {
		ID      string `json:"id"`
		Widgets []struct {
			ID         string   `json:"id"`
			MetricKeys []string `json:"metricKeys"`
		} `json:"widgets"`
		Render struct {
			Widgets []struct {
				Error   *struct{ Code string } `json:"error"`
				Results []struct {
					Metric struct{ Key string }     `json:"metric"`
					Totals struct{ Value *float64 } `json:"totals"`
				} `json:"results"`
			} `json:"widgets"`
		} `json:"render"`
	}
	enrolments := func(tenant string) (string, float64) {
		res := h.query(h.token(tenant, auth.RoleViewer), q, nil)
		require.Empty(t, res.Errors, "%+v", res.Errors)
		var d render
		require.NoError(t, json.Unmarshal(res.Data["dashboard"], &d))
		require.NotEmpty(t, d.Widgets, "the preset has widgets")
		require.Len(t, d.Render.Widgets, len(d.Widgets))
		total := -1.0
		for _, w := range d.Render.Widgets {
			assert.Nil(t, w.Error, "every preset widget renders")
			for _, r := range w.Results {
				if r.Metric.Key == "enrolments" && r.Totals.Value != nil && total < 0 {
					total = *r.Totals.Value
				}
			}
		}
		return d.ID, total
	}
	idA, totalA := enrolments("tenant-a")
	idB, totalB := enrolments("tenant-b")
	assert.NotEqual(t, idA, idB, "each tenant has its own preset")
	assert.Equal(t, 2.0, totalA)
	assert.Equal(t, 1.0, totalB, "tenant B's render sees only its own rows")

	res := h.query(h.token("tenant-b", auth.RoleViewer), `query($id: String!) { dashboard(idOrSlug: $id) { id } }`, map[string]any{"id": idA})
	require.Empty(t, res.Errors)
	assert.JSONEq(t, `null`, string(res.Data["dashboard"]), "tenant B cannot load tenant A's dashboard by id")

	res = h.query(h.token("tenant-a", auth.RoleViewer), `mutation { createDashboard(input: {slug: "x", title: "X"}) { id } }`, nil)
	assert.Equal(t, "FORBIDDEN", res.code())
}

func TestDeadLettersAreAdminOnlyAndScoped(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	res := h.query(h.token("tenant-a", auth.RoleAnalyst), `{ deadLetters { reason } }`, nil)
	assert.Equal(t, "FORBIDDEN", res.code())
	res = h.query(h.token("tenant-a", auth.RoleAdmin), `{ deadLetters(limit: 10) { reason message } }`, nil)
	require.Empty(t, res.Errors, "%+v", res.Errors)
	assert.JSONEq(t, `[]`, string(res.Data["deadLetters"]))
}

func TestDashboardRESTAlias(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.insertEvents("tenant-a", event{"a1", "course.enrolled", time.Now().UTC().Add(-time.Hour)})
	get := func(token, path string) (int, map[string]any) {
		req, err := http.NewRequest(http.MethodGet, h.url+path, nil)
		require.NoError(t, err)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		var body map[string]any
		require.NoError(t, json.NewDecoder(res.Body).Decode(&body))
		return res.StatusCode, body
	}
	code, body := get(h.token("tenant-a", auth.RoleViewer), "/v1/dashboards/learner-progress?last=7d")
	require.Equal(t, http.StatusOK, code, "%v", body)
	dash := body["data"].(map[string]any)["dashboard"].(map[string]any)
	assert.Equal(t, "learner-progress", dash["slug"])
	assert.NotEmpty(t, dash["render"].(map[string]any)["widgets"])

	code, _ = get("", "/v1/dashboards/learner-progress")
	assert.Equal(t, http.StatusUnauthorized, code)
	code, _ = get(h.token("tenant-a", auth.RoleViewer), "/v1/dashboards/no-such-board")
	assert.Equal(t, http.StatusNotFound, code)
	code, _ = get(h.token("tenant-a", auth.RoleViewer), "/v1/dashboards/learner-progress?last=forever")
	assert.Equal(t, http.StatusBadRequest, code)
}

func TestDashboardWidgetCohortsOverGraphQL(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	cohort := h.enrolmentCohort()
	adminA, adminB := h.token("tenant-a", auth.RoleAdmin), h.token("tenant-b", auth.RoleAdmin)

	create := `mutation($w: [WidgetInput!]) { createDashboard(input: {slug: "cohorts", title: "Cohorts", timeRange: {last: "7d"}}, widgets: $w) {
		widgets { cohorts { id member } cohortBreakdown }
		render { widgets { error { code } results { dimensions totals { value } series { values total { value } } } } } } }`
	pos := map[string]any{"x": 0, "y": 0, "w": 3, "h": 2}
	widgets := []any{
		map[string]any{"title": "Members", "kind": "KPI", "metricKeys": []string{"enrolments"}, "cohorts": []any{map[string]any{"id": cohort}}, "position": pos},
		map[string]any{"title": "Split", "kind": "PIE", "metricKeys": []string{"enrolments"}, "cohortBreakdown": cohort, "position": pos},
	}
	res := h.query(adminA, create, map[string]any{"w": widgets})
	require.Empty(t, res.Errors, "%+v", res.Errors)
	assert.JSONEq(t, `{"widgets":[{"cohorts":[{"id":"`+cohort+`","member":true}],"cohortBreakdown":null},{"cohorts":[],"cohortBreakdown":"`+cohort+`"}],
		"render":{"widgets":[
		{"error":null,"results":[{"dimensions":[],"totals":{"value":2},"series":[{"values":[],"total":{"value":2}}]}]},
		{"error":null,"results":[{"dimensions":["cohort"],"totals":{"value":3},"series":[
			{"values":["in cohort"],"total":{"value":2}},{"values":["not in cohort"],"total":{"value":1}}]}]}]}}`,
		string(res.Data["createDashboard"]), "user-1's two enrolments in the cohort, user-2's one outside")

	res = h.query(adminB, create, map[string]any{"w": widgets})
	require.Equal(t, "NOT_FOUND", res.code(), "tenant B cannot use tenant A's cohort")
	assert.Equal(t, "widgets[0].cohorts[0].id", res.Errors[0].Extensions["field"])
}
