package api_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/platform/auth"
)

func TestMetricQueryIsTenantScopedAndBatched(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	now := time.Now().UTC()
	// a1 and its redelivery fall on a closed day (30 h ago, whatever the
	// hour): metrics_daily counts the duplicate twice until a rebuild, but
	// the day was written since its last rebuild, so the rollup path reads
	// it from events FINAL and counts it once, with no rebuild here.
	h.insertEvents("tenant-a",
		event{"a1", "lesson.completed", now.Add(-30 * time.Hour)},
		event{"a2", "lesson.completed", now.Add(-2 * time.Hour)},
		event{"a3", "course.enrolled", now.Add(-3 * time.Hour)},
	)
	h.insertEvents("tenant-a", event{"a1", "lesson.completed", now.Add(-30 * time.Hour)}) // duplicate
	h.insertEvents("tenant-b", event{"b1", "lesson.completed", now.Add(-time.Hour)})

	q := `{
	  completions: metricQuery(key: "lesson_completions", timeRange: {last: "7d"}, grain: NONE) { totals { value } path metric { key kind } }
	  enrolments: metricQuery(key: "enrolments", timeRange: {last: "7d"}, grain: NONE) { totals { value } }
	  daily: metricQuery(key: "lesson_completions", timeRange: {last: "7d"}, grain: DAY) { series { points { bucket value } } }
	}`
	res := h.query(h.token("tenant-a", auth.RoleViewer), q, nil)
	require.Empty(t, res.Errors, "%+v", res.Errors)
	assert.JSONEq(t, `{"totals":{"value":2},"path":"rollup","metric":{"key":"lesson_completions","kind":"COUNT"}}`, string(res.Data["completions"]))
	assert.JSONEq(t, `{"totals":{"value":1}}`, string(res.Data["enrolments"]))
	var daily struct {
		Series []struct {
			Points []struct {
				Value float64 `json:"value"`
			} `json:"points"`
		} `json:"series"`
	}
	require.NoError(t, json.Unmarshal(res.Data["daily"], &daily))
	require.Len(t, daily.Series, 1)
	assert.GreaterOrEqual(t, len(daily.Series[0].Points), 7, "every day bucket is present")
	var sum float64
	for _, p := range daily.Series[0].Points {
		sum += p.Value
	}
	assert.Equal(t, 2.0, sum)

	res = h.query(h.token("tenant-b", auth.RoleViewer), q, nil)
	require.Empty(t, res.Errors)
	assert.JSONEq(t, `{"totals":{"value":1},"path":"rollup","metric":{"key":"lesson_completions","kind":"COUNT"}}`, string(res.Data["completions"]), "tenant B sees only its own rows")
	assert.JSONEq(t, `{"totals":{"value":0}}`, string(res.Data["enrolments"]))

	res = h.query(h.token("tenant-a", auth.RoleViewer), `{ metricQuery(key: "lesson_completions", timeRange: {last: "7d"}, dimensions: ["nope"]) { path } }`, nil)
	assert.Equal(t, "BAD_USER_INPUT", res.code())
	res = h.query(h.token("tenant-a", auth.RoleViewer), `{ metricQuery(key: "no_such_metric", timeRange: {last: "7d"}) { path } }`, nil)
	assert.Equal(t, "NOT_FOUND", res.code())
}

func TestMetricMutations(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	create := `mutation($in: MetricInput!) { createMetric(input: $in) { id key version status kind } }`
	in := map[string]any{"in": map[string]any{"key": "video_views", "name": "Video views", "kind": "COUNT", "eventTypes": []string{"video.watched"}}}

	res := h.query(h.token("acme", auth.RoleViewer), create, in)
	assert.Equal(t, "FORBIDDEN", res.code())

	admin := h.token("acme", auth.RoleAdmin)
	res = h.query(admin, create, in)
	require.Empty(t, res.Errors, "%+v", res.Errors)
	var created struct {
		ID      string `json:"id"`
		Version int    `json:"version"`
	}
	require.NoError(t, json.Unmarshal(res.Data["createMetric"], &created))
	assert.Equal(t, 1, created.Version)

	res = h.query(admin, create, in)
	assert.Equal(t, "CONFLICT", res.code(), "duplicate key")

	update := `mutation($id: ID!, $v: Int!, $in: MetricInput!) { updateMetric(id: $id, expectedVersion: $v, input: $in) { version name } }`
	in2 := map[string]any{"key": "video_views", "name": "Videos watched", "kind": "COUNT", "eventTypes": []string{"video.watched"}}
	res = h.query(admin, update, map[string]any{"id": created.ID, "v": 7, "in": in2})
	require.Equal(t, "CONFLICT", res.code())
	assert.Contains(t, res.Errors[0].Message, "version 1")

	res = h.query(admin, update, map[string]any{"id": created.ID, "v": 1, "in": in2})
	require.Empty(t, res.Errors, "%+v", res.Errors)
	assert.JSONEq(t, `{"version":2,"name":"Videos watched"}`, string(res.Data["updateMetric"]))

	res = h.query(admin, `mutation($id: ID!) { deprecateMetric(id: $id, expectedVersion: 2, replacement: "lesson_completions") { metric { status replacement version } usedBy { entityType } } }`, map[string]any{"id": created.ID})
	require.Empty(t, res.Errors, "%+v", res.Errors)
	assert.JSONEq(t, `{"metric":{"status":"DEPRECATED","replacement":"lesson_completions","version":3},"usedBy":[]}`, string(res.Data["deprecateMetric"]))

	res = h.query(h.token("other-tenant", auth.RoleAdmin), `query($id: ID!) { metric(id: $id) { key } }`, map[string]any{"id": created.ID})
	require.Empty(t, res.Errors)
	assert.JSONEq(t, `null`, string(res.Data["metric"]), "another tenant cannot see the definition")

	res = h.query(admin, `{ metrics(first: 3, filter: {search: "learners"}) { totalCount edges { node { key } } pageInfo { hasNextPage endCursor } } }`, nil)
	require.Empty(t, res.Errors, "%+v", res.Errors)
	var page struct {
		TotalCount int        `json:"totalCount"`
		Edges      []struct{} `json:"edges"`
		PageInfo   struct {
			HasNextPage bool `json:"hasNextPage"`
		} `json:"pageInfo"`
	}
	require.NoError(t, json.Unmarshal(res.Data["metrics"], &page))
	assert.Len(t, page.Edges, 3)
	assert.Greater(t, page.TotalCount, 3)
	assert.True(t, page.PageInfo.HasNextPage)
}

func TestEventsQuery(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	now := time.Now().UTC()
	h.insertEvents("tenant-a", event{"a1", "user.login", now.Add(-time.Hour)}, event{"a2", "quiz.submitted", now.Add(-time.Hour)})
	h.insertEvents("tenant-b", event{"b1", "user.login", now.Add(-time.Hour)})
	q := `query($sql: String!) { eventsQuery(sql: $sql) { columns { name type } rows truncated } }`

	res := h.query(h.token("tenant-a", auth.RoleViewer), q, map[string]any{"sql": "SELECT 1"})
	assert.Equal(t, "FORBIDDEN", res.code(), "viewers may not run SQL")

	analyst := h.token("tenant-a", auth.RoleAnalyst)
	res = h.query(analyst, q, map[string]any{"sql": "SELECT type, count() AS n FROM events GROUP BY type ORDER BY type"})
	require.Empty(t, res.Errors, "%+v", res.Errors)
	assert.JSONEq(t, `{"columns":[{"name":"type","type":"LowCardinality(String)"},{"name":"n","type":"UInt64"}],"rows":[["quiz.submitted",1],["user.login",1]],"truncated":false}`, string(res.Data["eventsQuery"]))

	res = h.query(h.token("tenant-b", auth.RoleAnalyst), q, map[string]any{"sql": "SELECT count() FROM events WHERE tenant_id = 'tenant-a'"})
	if len(res.Errors) == 0 {
		assert.JSONEq(t, `{"columns":[{"name":"count()","type":"UInt64"}],"rows":[[0]],"truncated":false}`, string(res.Data["eventsQuery"]), "tenant B cannot read tenant A's rows even by naming it")
	} else {
		assert.Equal(t, "BAD_USER_INPUT", res.code())
	}

	res = h.query(analyst, q, map[string]any{"sql": "SELECT *\nFROM file('/etc/passwd')"})
	require.Equal(t, "BAD_USER_INPUT", res.code())
	assert.EqualValues(t, 2, res.Errors[0].Extensions["line"])
	assert.Contains(t, res.Errors[0].Message, "file")
}
