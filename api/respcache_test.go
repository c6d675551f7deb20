package api_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/platform/auth"
)

// renderRead is the read a dashboard polls: its title and every widget's
// totals over the default window (the last 30 days, ending now).
const renderRead = `{ dashboard(idOrSlug: "learner-progress") { id version title render { widgets { widgetId error { code } results { totals { value } } } } } }`

// TestResponseCacheKeepsPolledReadsAndFollowsChanges runs the learner-
// progress render and a metricQuery through the whole stack with whole
// responses kept: a repeated read runs no resolver and reads nothing from
// the engine; a commit notice, a dashboard edit and a metric definition
// edit each give the new answer on the very next read; another tenant and
// another user of the same tenant never get the kept response; a query
// that asks for anything else is never kept.
func TestResponseCacheKeepsPolledReadsAndFollowsChanges(t *testing.T) {
	h := newHarness(t, harnessOpts{dashboardResults: true})
	now := time.Now().UTC()
	h.insertEvents("tenant-a", event{"a1", "course.enrolled", now.Add(-time.Hour)}, event{"a2", "course.enrolled", now.Add(-26 * time.Hour)})
	h.insertEvents("tenant-b", event{"b1", "course.enrolled", now.Add(-time.Hour)})
	viewerA := h.token("tenant-a", auth.RoleViewer)

	read := func(tok string) string {
		t.Helper()
		res := h.query(tok, renderRead, nil)
		require.Empty(t, res.Errors, "%+v", res.Errors)
		return string(res.Data["dashboard"])
	}
	first := read(viewerA)
	st, reads := h.responses.Stats(), h.engineReads()
	for range 3 {
		assert.Equal(t, first, read(viewerA), "the same bytes while nothing changed")
	}
	assert.Equal(t, st.Hits+3, h.responses.Stats().Hits, "repeated renders are served from the kept response")
	assert.Equal(t, st.Computes, h.responses.Stats().Computes)
	assert.Equal(t, reads, h.engineReads(), "a kept response reads nothing")

	// A commit notice: the very next read shows the new enrolment.
	h.insertEvents("tenant-a", event{"a3", "course.enrolled", now.Add(-time.Minute)})
	afterCommit := read(viewerA)
	assert.NotEqual(t, first, afterCommit)
	assert.Contains(t, enrolmentTotals(t, afterCommit), 3.0, "the top-courses widget counts the committed enrolment: %s", afterCommit)

	// Tenant B, same query and role: its own answer, computed for it.
	computes := h.responses.Stats().Computes
	b := read(h.token("tenant-b", auth.RoleViewer))
	assert.Equal(t, computes+1, h.responses.Stats().Computes, "tenant B never gets tenant A's kept response")
	assert.Contains(t, enrolmentTotals(t, b), 1.0)
	assert.NotContains(t, enrolmentTotals(t, b), 3.0)

	// Another user of tenant A: computed for that principal.
	other, err := h.signer.Sign(auth.Principal{Subject: "someone-else", Tenant: "tenant-a", Roles: []auth.Role{auth.RoleViewer}}, time.Hour)
	require.NoError(t, err)
	computes = h.responses.Stats().Computes
	assert.Equal(t, afterCommit, read(other))
	assert.Equal(t, computes+1, h.responses.Stats().Computes, "a kept response is served only to the principal it was computed for")

	// A dashboard edit (as on another replica: through GraphQL, which
	// publishes the version in Redis): the next read has the new title.
	var d struct {
		ID      string
		Version int
	}
	require.NoError(t, json.Unmarshal([]byte(afterCommit), &d))
	admin := h.token("tenant-a", auth.RoleAdmin)
	res := h.query(admin, `mutation($id: ID!, $v: Int!) { updateDashboard(id: $id, expectedVersion: $v, input: {slug: "learner-progress", title: "Renamed"}) { version } }`,
		map[string]any{"id": d.ID, "v": d.Version})
	require.Empty(t, res.Errors, "%+v", res.Errors)
	assert.Contains(t, read(viewerA), `"title":"Renamed"`, "a dashboard edit is never hidden behind the kept response")

	// A metric definition edit: metricQuery follows the definitions generation.
	const mq = `{ metricQuery(key: "enrolments", timeRange: {last: "30d"}, grain: DAY) { totals { value } } }`
	res = h.query(viewerA, mq, nil)
	require.Empty(t, res.Errors, "%+v", res.Errors)
	assert.JSONEq(t, `{"totals":{"value":3}}`, string(res.Data["metricQuery"]))
	hits := h.responses.Stats().Hits
	res = h.query(viewerA, mq, nil)
	require.Empty(t, res.Errors, "%+v", res.Errors)
	assert.Equal(t, hits+1, h.responses.Stats().Hits)
	res = h.query(admin, `{ metric(key: "enrolments") { id version } }`, nil)
	require.Empty(t, res.Errors, "%+v", res.Errors)
	var m struct {
		Metric struct {
			ID      string
			Version int
		}
	}
	require.NoError(t, json.Unmarshal(mustJSON(t, res.Data), &m))
	res = h.query(admin, `mutation($id: ID!, $v: Int!) { updateMetric(id: $id, expectedVersion: $v, input: {key: "enrolments", name: "Enrolments", kind: COUNT, eventTypes: ["user.login"]}) { version } }`,
		map[string]any{"id": m.Metric.ID, "v": m.Metric.Version})
	require.Empty(t, res.Errors, "%+v", res.Errors)
	res = h.query(viewerA, mq, nil)
	require.Empty(t, res.Errors, "%+v", res.Errors)
	assert.JSONEq(t, `{"totals":{"value":0}}`, string(res.Data["metricQuery"]), "a definition edit is never hidden behind the kept response")

	// A widget's cached flag says how this very request was served: a
	// response asking for it is never kept, so it never repeats a first
	// answer's false.
	st = h.responses.Stats()
	const withCached = `{ dashboard(idOrSlug: "learner-progress") { render { widgets { widgetId cached } } } }`
	res = h.query(viewerA, withCached, nil)
	require.Empty(t, res.Errors, "%+v", res.Errors)
	res = h.query(viewerA, withCached, nil)
	require.Empty(t, res.Errors, "%+v", res.Errors)
	assert.Contains(t, string(res.Data["dashboard"]), `"cached":true`, "the second render's widgets came from the widget cache and say so")
	assert.Equal(t, st.Hits, h.responses.Stats().Hits)

	// A query with any other root field is never kept.
	st = h.responses.Stats()
	for range 2 {
		res = h.query(viewerA, `{ viewer { subject } metricQuery(key: "enrolments", timeRange: {last: "30d"}, grain: DAY) { totals { value } } }`, nil)
		require.Empty(t, res.Errors, "%+v", res.Errors)
	}
	assert.Equal(t, st, h.responses.Stats(), "viewer is answered per request")
}

// enrolmentTotals are the totals of the learner-progress render's
// "Top courses" widget and its other totals, as numbers.
func enrolmentTotals(t *testing.T, dashboard string) []float64 {
	t.Helper()
	var d struct {
		Render struct {
			Widgets []struct {
				Results []struct {
					Totals struct{ Value *float64 }
				}
			}
		}
	}
	require.NoError(t, json.Unmarshal([]byte(dashboard), &d))
	var out []float64
	for _, w := range d.Render.Widgets {
		for _, r := range w.Results {
			if r.Totals.Value != nil {
				out = append(out, *r.Totals.Value)
			}
		}
	}
	return out
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}
