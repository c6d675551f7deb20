package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/monitors"
	"github.com/learnhub/analytics-service/platform/auth"
)

// completions writes perDay course.completed events on each of the last
// days days for tenant.
func completions(h *harness, tenant string, days, perDay int) {
	h.t.Helper()
	today := time.Now().UTC().Truncate(24 * time.Hour)
	var evs []event
	for d := 1; d <= days; d++ {
		for i := range perDay {
			evs = append(evs, event{id: fmt.Sprintf("%s-%d-%d", tenant, d, i), typ: "course.completed", at: today.AddDate(0, 0, -d).Add(time.Duration(i) * time.Minute)})
		}
	}
	h.insertEvents(tenant, evs...)
}

// errorOf returns the first error's code and field.
func errorOf(res gqlResponse) (code, field string) {
	if len(res.Errors) == 0 {
		return "", ""
	}
	code, _ = res.Errors[0].Extensions["code"].(string)
	field, _ = res.Errors[0].Extensions["field"].(string)
	return code, field
}

func TestMonitorsOverGraphQLAndTenancy(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	completions(h, "tenant-a", 40, 5)
	completions(h, "tenant-b", 40, 1)
	adminA, viewerA := h.token("tenant-a", auth.RoleAdmin), h.token("tenant-a", auth.RoleViewer)
	adminB, viewerB := h.token("tenant-b", auth.RoleAdmin), h.token("tenant-b", auth.RoleViewer)

	create := `mutation($in: MonitorInput!) { createMonitor(input: $in) { id name metricKey grain detector sensitivity threshold version isDefault active } }`
	in := map[string]any{"metricKey": "course_completions", "grain": "DAY", "name": "Completions", "sensitivity": "HIGH"}
	res := h.query(viewerA, create, map[string]any{"in": in})
	code, _ := errorOf(res)
	assert.Equal(t, "FORBIDDEN", code, "a viewer cannot define monitors")
	res = h.query(adminA, create, map[string]any{"in": in})
	require.Empty(t, res.Errors, "%+v", res.Errors)
	var m struct {
		ID        string
		Threshold float64
		Version   int
	}
	require.NoError(t, json.Unmarshal(res.Data["createMonitor"], &m))
	assert.Equal(t, 0.5, m.Threshold)
	assert.JSONEq(t, fmt.Sprintf(`{"id":%q,"name":"Completions","metricKey":"course_completions","grain":"DAY","detector":"counts",
		"sensitivity":"HIGH","threshold":0.5,"version":1,"isDefault":false,"active":true}`, m.ID), string(res.Data["createMonitor"]))

	bad := map[string]any{"metricKey": "course_completions", "grain": "WEEK"}
	code, field := errorOf(h.query(adminA, create, map[string]any{"in": bad}))
	assert.Equal(t, [2]string{"BAD_USER_INPUT", "grain"}, [2]string{code, field})
	bad = map[string]any{"metricKey": "no_such_metric", "grain": "DAY"}
	code, field = errorOf(h.query(adminA, create, map[string]any{"in": bad}))
	assert.Equal(t, [2]string{"BAD_USER_INPUT", "metricKey"}, [2]string{code, field})
	bad = map[string]any{"metricKey": "course_completions", "grain": "DAY", "detector": "oracle"}
	code, field = errorOf(h.query(adminA, create, map[string]any{"in": bad}))
	assert.Equal(t, [2]string{"BAD_USER_INPUT", "detector"}, [2]string{code, field})

	list := `{ monitors { id isDefault } }`
	res = h.query(viewerA, list, nil)
	require.Empty(t, res.Errors, "%+v", res.Errors)
	assert.Contains(t, string(res.Data["monitors"]), m.ID)
	assert.Contains(t, string(res.Data["monitors"]), `{"id":"key:course_completions","isDefault":true}`)
	res = h.query(viewerB, list, nil)
	require.Empty(t, res.Errors, "%+v", res.Errors)
	assert.NotContains(t, string(res.Data["monitors"]), m.ID, "B does not see A's monitor")
	assert.Contains(t, string(res.Data["monitors"]), `"key:course_completions"`, "B has its own defaults")

	one := `query($id: ID!) { monitor(id: $id) { id lastRun { kind scored errors { error } } } }`
	code, _ = errorOf(h.query(viewerB, one, map[string]any{"id": m.ID}))
	assert.Equal(t, "NOT_FOUND", code)
	update := `mutation($id: ID!, $v: Int!, $in: MonitorInput!) { updateMonitor(id: $id, expectedVersion: $v, input: $in) { version } }`
	code, _ = errorOf(h.query(adminB, update, map[string]any{"id": m.ID, "v": 1, "in": in}))
	assert.Equal(t, "NOT_FOUND", code, "B cannot change A's monitor")
	del := `mutation($id: ID!, $v: Int!) { deleteMonitor(id: $id, expectedVersion: $v) }`
	code, _ = errorOf(h.query(adminB, del, map[string]any{"id": m.ID, "v": 1}))
	assert.Equal(t, "NOT_FOUND", code, "B cannot delete A's monitor")

	// Evaluate both tenants (the first evaluation backfills), then read scores.
	at := time.Now().UTC()
	for _, tenant := range []string{"tenant-a", "tenant-b"} {
		_, err := h.monitors.Evaluate(context.Background(), tenant, monitors.GrainDay, at)
		require.NoError(t, err)
	}
	res = h.query(viewerA, one, map[string]any{"id": m.ID})
	require.Empty(t, res.Errors, "%+v", res.Errors)
	assert.JSONEq(t, fmt.Sprintf(`{"id":%q,"lastRun":{"kind":"backfill","scored":%d,"errors":[]}}`, m.ID, monitors.DayHistory), string(res.Data["monitor"]))

	anomalies := `query($in: MetricAnomaliesInput!) { metricAnomalies(input: $in) { labels { dimension value } points { bucket value score anomalous detector query } } }`
	last10 := map[string]any{"last": "10d"}
	res = h.query(viewerA, anomalies, map[string]any{"in": map[string]any{"monitorId": m.ID, "timeRange": last10}})
	require.Empty(t, res.Errors, "%+v", res.Errors)
	var series []struct {
		Points []struct {
			Value float64
			Query string
		}
	}
	require.NoError(t, json.Unmarshal(res.Data["metricAnomalies"], &series))
	require.Len(t, series, 1)
	require.NotEmpty(t, series[0].Points)
	assert.Equal(t, 5.0, series[0].Points[0].Value, "A's own completions")
	assert.Contains(t, series[0].Points[0].Query, `"metricKey":"course_completions"`)
	code, _ = errorOf(h.query(viewerB, anomalies, map[string]any{"in": map[string]any{"monitorId": m.ID, "timeRange": last10}}))
	assert.Equal(t, "NOT_FOUND", code, "B cannot read A's scores")

	// Scored now by metric key: each tenant sees its own values.
	byKey := map[string]any{"metricKey": "course_completions", "timeRange": last10}
	for _, tc := range []struct {
		token string
		want  float64
	}{{viewerA, 5}, {viewerB, 1}} {
		res = h.query(tc.token, anomalies, map[string]any{"in": byKey})
		require.Empty(t, res.Errors, "%+v", res.Errors)
		require.NoError(t, json.Unmarshal(res.Data["metricAnomalies"], &series))
		require.Len(t, series, 1)
		require.NotEmpty(t, series[0].Points)
		assert.Equal(t, tc.want, series[0].Points[0].Value)
	}
	code, field = errorOf(h.query(viewerA, anomalies, map[string]any{"in": map[string]any{"timeRange": last10}}))
	assert.Equal(t, [2]string{"BAD_USER_INPUT", "monitorId"}, [2]string{code, field})

	forecast := `query($in: MetricForecastInput!) { metricForecast(input: $in) { model points { value intervals { level lower upper } } } }`
	fin := map[string]any{"metricKey": "course_completions", "grain": "DAY", "horizon": 3, "model": "snaive", "history": 28}
	for _, tc := range []struct {
		token string
		want  float64
	}{{viewerA, 5}, {viewerB, 1}} {
		res = h.query(tc.token, forecast, map[string]any{"in": fin})
		require.Empty(t, res.Errors, "%+v", res.Errors)
		var fs []struct {
			Points []struct {
				Value     float64
				Intervals []struct{ Level float64 }
			}
		}
		require.NoError(t, json.Unmarshal(res.Data["metricForecast"], &fs))
		require.Len(t, fs, 1)
		require.Len(t, fs[0].Points, 3)
		assert.Equal(t, tc.want, fs[0].Points[0].Value, "each tenant's forecast reads its own history")
		assert.Len(t, fs[0].Points[0].Intervals, 2)
	}
	for _, tc := range []struct {
		edit  map[string]any
		field string
	}{
		{map[string]any{"horizon": 1001}, "horizon"},
		{map[string]any{"metricKey": "no_such_metric"}, "metricKey"},
		{map[string]any{"model": "arima", "history": 5}, "history"},
	} {
		in := map[string]any{}
		for k, v := range fin {
			in[k] = v
		}
		for k, v := range tc.edit {
			in[k] = v
		}
		code, field := errorOf(h.query(viewerA, forecast, map[string]any{"in": in}))
		assert.Equal(t, [2]string{"BAD_USER_INPUT", tc.field}, [2]string{code, field})
	}

	res = h.query(adminA, del, map[string]any{"id": m.ID, "v": 1})
	require.Empty(t, res.Errors, "%+v", res.Errors)
	code, field = errorOf(h.query(adminA, del, map[string]any{"id": "key:course_completions", "v": 0}))
	assert.Equal(t, [2]string{"BAD_USER_INPUT", "id"}, [2]string{code, field}, "defaults are switched off, not deleted")
}
