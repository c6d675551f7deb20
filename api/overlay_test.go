package api_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/metrics/metricstest"
	"github.com/learnhub/analytics-service/monitors"
	"github.com/learnhub/analytics-service/platform/auth"
)

func TestWidgetOverlayOverGraphQL(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	completions(h, "tenant-a", 40, 5)
	completions(h, "tenant-b", 40, 1)
	adminA, adminB := h.token("tenant-a", auth.RoleAdmin), h.token("tenant-b", auth.RoleAdmin)
	_, err := h.monitors.Evaluate(context.Background(), "tenant-a", monitors.GrainDay, time.Now().UTC())
	require.NoError(t, err)

	create := `mutation($w: WidgetInput!) { createDashboard(input: {slug: "bands", title: "Bands"}, widgets: [$w]) {
	  widgets { overlay { forecast { horizon model levels history } anomalies { monitorId detector sensitivity } } }
	  render(timeRange: {last: "14d"}) { widgets { error { code } overlay { metricKey grain error { code message }
	    forecast { model points { bucket value intervals { level lower upper } } }
	    anomalies { points { bucket value score anomalous detector } } } } } } }`
	widget := func(overlay map[string]any) map[string]any {
		return map[string]any{"title": "Completions", "kind": "LINE", "metricKeys": []string{"course_completions"}, "grain": "DAY", "overlay": overlay}
	}
	res := h.query(adminA, create, map[string]any{"w": widget(map[string]any{
		"forecast":  map[string]any{"horizon": 5, "model": "snaive", "history": 28},
		"anomalies": map[string]any{"monitorId": "key:course_completions"},
	})})
	require.Empty(t, res.Errors, "%+v", res.Errors)
	var d struct {
		Widgets []struct{ Overlay json.RawMessage }
		Render  struct {
			Widgets []struct {
				Error   any
				Overlay struct {
					MetricKey, Grain string
					Error            any
					Forecast         []struct {
						Model  string
						Points []struct {
							Value     float64
							Intervals []struct{ Level, Lower, Upper float64 }
						}
					}
					Anomalies []struct {
						Points []struct {
							Value    float64
							Detector string
						}
					}
				}
			}
		}
	}
	require.NoError(t, json.Unmarshal(res.Data["createDashboard"], &d))
	assert.JSONEq(t, `{"forecast":{"horizon":5,"model":"snaive","levels":[],"history":28},"anomalies":{"monitorId":"key:course_completions","detector":null,"sensitivity":null}}`,
		string(d.Widgets[0].Overlay))
	ov := d.Render.Widgets[0].Overlay
	assert.Nil(t, d.Render.Widgets[0].Error)
	assert.Nil(t, ov.Error)
	assert.Equal(t, [2]string{"course_completions", "DAY"}, [2]string{ov.MetricKey, ov.Grain})
	require.Len(t, ov.Forecast, 1)
	require.Len(t, ov.Forecast[0].Points, 5)
	assert.Equal(t, 5.0, ov.Forecast[0].Points[0].Value, "seasonal naive repeats A's 5 a day")
	assert.Equal(t, 95.0, ov.Forecast[0].Points[0].Intervals[1].Level)
	require.Len(t, ov.Anomalies, 1)
	require.NotEmpty(t, ov.Anomalies[0].Points)
	assert.Equal(t, 5.0, ov.Anomalies[0].Points[0].Value, "A's key-metric monitor's stored scores")
	assert.Equal(t, "counts", ov.Anomalies[0].Points[0].Detector, "a COUNT metric at DAY grain is watched by the counts detector")

	// Bad input names the field; B cannot reference A's monitor.
	mine, err := h.monitors.Create(metricstest.As("tenant-a"), monitors.Monitor{MetricKey: "course_completions", Grain: "DAY", Active: true})
	require.NoError(t, err)
	for _, tc := range []struct {
		token   string
		overlay map[string]any
		field   string
	}{
		{adminA, map[string]any{"forecast": map[string]any{"horizon": 1000}}, "widgets[0].overlay.forecast.horizon"},
		{adminA, map[string]any{"anomalies": map[string]any{"detector": "oracle"}}, "widgets[0].overlay.anomalies.detector"},
		{adminB, map[string]any{"anomalies": map[string]any{"monitorId": mine.ID}}, "widgets[0].overlay.anomalies.monitorId"},
	} {
		code, field := errorOf(h.query(tc.token, create, map[string]any{"w": widget(tc.overlay)}))
		assert.Equal(t, [2]string{"BAD_USER_INPUT", tc.field}, [2]string{code, field})
	}
}
