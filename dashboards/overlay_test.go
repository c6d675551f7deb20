package dashboards

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/cohorts"
	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/monitors"
	"github.com/learnhub/analytics-service/platform/errs"
)

// lineWith is a LINE widget of lesson completions per day with overlay o.
func lineWith(o *Overlay) WidgetInput {
	return WidgetInput{Title: "Completions", Kind: KindLine, MetricKeys: []string{"lesson_completions"}, Grain: "DAY",
		Overlay: o, Position: Position{W: 6, H: 4}}
}

func TestOverlayRenderIsTheMonitorsAnswer(t *testing.T) {
	e := newEnv(t)
	seed(t, e.db, "acme", 3000, 1)
	ctx := as("acme")
	_, err := e.svc.Get(ctx, PresetSlug) // installs the catalog
	require.NoError(t, err)

	o := &Overlay{Forecast: &ForecastOverlay{Horizon: 7, Model: "snaive", History: 60}, Anomalies: &AnomalyOverlay{Detector: "ar", Sensitivity: monitors.SensitivityHigh}}
	d, err := e.svc.Create(ctx, Input{Slug: "bands", Title: "Bands"}, []WidgetInput{lineWith(o)})
	require.NoError(t, err)
	require.Equal(t, o, d.Widgets[0].Overlay, "the overlay is stored with the widget")

	plain, err := e.svc.Create(ctx, Input{Slug: "plain", Title: "Plain"}, []WidgetInput{lineWith(nil)})
	require.NoError(t, err)
	t0 := time.Now()
	_, err = e.svc.Render(ctx, plain.ID, nil, january())
	require.NoError(t, err)
	tPlain := time.Since(t0)
	t0 = time.Now()
	out, err := e.svc.Render(ctx, d.ID, nil, january())
	require.NoError(t, err)
	tOverlay := time.Since(t0)
	wd := out.Widgets[0]
	require.Nil(t, wd.Error)
	require.NotNil(t, wd.Overlay)
	require.Nil(t, wd.Overlay.Error, "%+v", wd.Overlay.Error)
	assert.Equal(t, metrics.Grain("DAY"), wd.Overlay.Grain)

	// The same code as metricForecast and metricAnomalies: asked directly,
	// the monitors service gives the same numbers.
	series := monitors.Series{MetricKey: "lesson_completions", Grain: "DAY", Filters: nil}
	fcs, err := e.monitors.Forecast(ctx, monitors.ForecastRequest{Series: series, Horizon: 7, Model: "snaive", History: 60})
	require.NoError(t, err)
	assert.Equal(t, toForecastSeries(fcs), wd.Overlay.Forecast)
	require.Len(t, wd.Overlay.Forecast, 1)
	fc := wd.Overlay.Forecast[0]
	require.Len(t, fc.Points, 7)
	assert.Equal(t, testNow, fc.Points[0].Bucket, "the forecast starts after the last complete bucket")
	for _, p := range fc.Points {
		require.Len(t, p.Intervals, 2, "80 and 95 by default")
		assert.Equal(t, []float64{80, 95}, []float64{p.Intervals[0].Level, p.Intervals[1].Level})
		assert.LessOrEqual(t, p.Intervals[1].Lower, p.Intervals[0].Lower)
		assert.LessOrEqual(t, p.Intervals[0].Lower, p.Value)
		assert.LessOrEqual(t, p.Value, p.Intervals[0].Upper)
		assert.LessOrEqual(t, p.Intervals[0].Upper, p.Intervals[1].Upper)
	}

	scores, err := e.monitors.Anomalies(ctx, monitors.AnomalyRequest{Series: series, Detector: "ar", Sensitivity: monitors.SensitivityHigh,
		TimeRange: *january()})
	require.NoError(t, err)
	assert.Equal(t, toAnomalySeries(scores), wd.Overlay.Anomalies)
	require.Len(t, wd.Overlay.Anomalies, 1)
	pts := wd.Overlay.Anomalies[0].Points
	require.Len(t, pts, 31, "one scored bucket per day of January")
	for i, p := range pts {
		assert.Equal(t, time.Date(2026, 1, 1+i, 0, 0, 0, 0, time.UTC), p.Bucket)
		assert.Equal(t, "ar", p.Detector)
		assert.Equal(t, *wd.Results[0].Series[0].Points[i].Value, p.Value, "markers sit on the widget's own line")
	}

	// Cached with the rest of the widget.
	e.clock.Advance(10 * time.Second)
	t0 = time.Now()
	again, err := e.svc.Render(ctx, d.ID, nil, january())
	require.NoError(t, err)
	tCached := time.Since(t0)
	defaults, err := e.svc.Create(ctx, Input{Slug: "defaults", Title: "Defaults"}, []WidgetInput{lineWith(&Overlay{Forecast: &ForecastOverlay{Horizon: 14}, Anomalies: &AnomalyOverlay{}})})
	require.NoError(t, err)
	t1 := time.Now()
	dr, err := e.svc.Render(ctx, defaults.ID, nil, january())
	require.NoError(t, err)
	require.Nil(t, dr.Widgets[0].Overlay.Error)
	t.Logf("with the defaults (ensemble forecast on 180 buckets, ensemble detector): %v uncached", time.Since(t1))
	t.Logf("render of one LINE widget, uncached: %v plain, %v with forecast (snaive, 60 buckets) and anomalies (ar); cached with overlay: %v",
		tPlain, tOverlay, tCached)
	assert.True(t, again.Widgets[0].Cached)
	assert.Equal(t, wd.Overlay, again.Widgets[0].Overlay)
}

func TestOverlayFromAMonitorAndItsTenant(t *testing.T) {
	e := newEnv(t)
	seed(t, e.db, "tenant-a", 3000, 1)
	a, b := as("tenant-a"), as("tenant-b")
	for _, ctx := range []context.Context{a, b} {
		_, err := e.svc.Get(ctx, PresetSlug)
		require.NoError(t, err)
	}
	m, err := e.monitors.Create(a, monitors.Monitor{MetricKey: "lesson_completions", Grain: "DAY", Sensitivity: monitors.SensitivityHigh, Active: true})
	require.NoError(t, err)
	_, err = e.monitors.Evaluate(context.Background(), "tenant-a", monitors.GrainDay, testNow.Add(time.Hour))
	require.NoError(t, err)

	d, err := e.svc.Create(a, Input{Slug: "watched", Title: "Watched"}, []WidgetInput{lineWith(&Overlay{Anomalies: &AnomalyOverlay{MonitorID: m.ID}})})
	require.NoError(t, err)
	out, err := e.svc.Render(a, d.ID, nil, january())
	require.NoError(t, err)
	ov := out.Widgets[0].Overlay
	require.NotNil(t, ov)
	require.Nil(t, ov.Error, "%+v", ov.Error)
	assert.Empty(t, ov.Forecast, "no forecast asked for")
	_, stored, err := e.monitors.MonitorScores(a, m.ID, *january())
	require.NoError(t, err)
	require.NotEmpty(t, stored)
	assert.Equal(t, toAnomalySeries(stored), ov.Anomalies, "the monitor's stored scores")
	assert.Len(t, ov.Anomalies[0].Points, 31)

	// Tenant B cannot point a widget at A's monitor: it is not B's.
	_, err = e.svc.Create(b, Input{Slug: "peek", Title: "Peek"}, []WidgetInput{lineWith(&Overlay{Anomalies: &AnomalyOverlay{MonitorID: m.ID}})})
	require.True(t, errs.Is(err, errs.KindInvalid), "%v", err)
	assert.Equal(t, "widgets[0].overlay.anomalies.monitorId", errs.PublicFields(err)["field"])
	assert.Contains(t, errs.PublicMessage(err), "not a monitor of this tenant")
	// B's own default monitor of a key metric, with the same id as A's, is B's.
	_, err = e.svc.Create(b, Input{Slug: "own", Title: "Own"}, []WidgetInput{{Title: "New learners", Kind: KindLine,
		MetricKeys: []string{"new_learners"}, Grain: "DAY", Overlay: &Overlay{Anomalies: &AnomalyOverlay{MonitorID: "key:new_learners"}}, Position: Position{W: 6, H: 4}}})
	require.NoError(t, err)

	// A monitor deleted after the widget was saved fails the overlay, not the widget.
	require.NoError(t, e.monitors.Delete(a, m.ID, m.Version))
	e.clock.Advance(2 * DefaultCacheTTL)
	out, err = e.svc.Render(a, d.ID, nil, january())
	require.NoError(t, err)
	wd := out.Widgets[0]
	assert.Nil(t, wd.Error)
	require.NotNil(t, wd.Results[0], "the line is still drawn")
	require.NotNil(t, wd.Overlay.Error)
	assert.Equal(t, errs.KindNotFound.String(), wd.Overlay.Error.Code)
	assert.Contains(t, wd.Overlay.Error.Message, "anomalies: ")
}

func TestOverlayValidation(t *testing.T) {
	e := newEnv(t)
	seed(t, e.db, "acme", 300, 1)
	ctx := as("acme")
	_, err := e.svc.Get(ctx, PresetSlug)
	require.NoError(t, err)
	hourly, err := e.monitors.Create(ctx, monitors.Monitor{MetricKey: "lesson_completions", Grain: "HOUR", Active: true})
	require.NoError(t, err)
	other, err := e.monitors.Create(ctx, monitors.Monitor{MetricKey: "enrolments", Grain: "DAY", Active: true})
	require.NoError(t, err)
	cohort, err := e.cohorts.Create(ctx, cohorts.Cohort{Name: "Some", Static: []string{"u1", "u2"}})
	require.NoError(t, err)
	split, err := e.monitors.Create(ctx, monitors.Monitor{MetricKey: "lesson_completions", Grain: "DAY", Dimensions: []string{"properties.course_id"}, Active: true})
	require.NoError(t, err)

	fc := func(f ForecastOverlay) *Overlay { return &Overlay{Forecast: &f} }
	with := func(mod func(*WidgetInput)) WidgetInput {
		w := lineWith(fc(ForecastOverlay{Horizon: 7}))
		mod(&w)
		return w
	}
	const p = "widgets[0]"
	for _, tc := range []struct {
		name  string
		w     WidgetInput
		field string
		says  string
	}{
		{"empty overlay", lineWith(&Overlay{}), p + ".overlay", "needs forecast, anomalies or both"},
		{"horizon zero", lineWith(fc(ForecastOverlay{})), p + ".overlay.forecast.horizon", "forecast 1 to 366 buckets"},
		{"horizon over the limit", lineWith(fc(ForecastOverlay{Horizon: MaxOverlayHorizon + 1})), p + ".overlay.forecast.horizon", "367"},
		{"unknown model", lineWith(fc(ForecastOverlay{Horizon: 7, Model: "crystal-ball"})), p + ".overlay.forecast.model", "use one of ensemble"},
		{"level of 100", lineWith(fc(ForecastOverlay{Horizon: 7, Levels: []float64{80, 100}})), p + ".overlay.forecast.levels[1]", "strictly between 0 and 100"},
		{"four levels", lineWith(fc(ForecastOverlay{Horizon: 7, Levels: []float64{50, 80, 90, 95}})), p + ".overlay.forecast.levels", "at most 3"},
		{"history of one", lineWith(fc(ForecastOverlay{Horizon: 7, History: 1})), p + ".overlay.forecast.history", "2 to 2000"},
		{"bar widget", with(func(w *WidgetInput) { w.Kind = KindBar }), p + ".kind", "LINE widgets"},
		{"two metrics", with(func(w *WidgetInput) { w.MetricKeys = []string{"lesson_completions", "enrolments"} }), p + ".metricKeys", "one metric"},
		{"weekly grain", with(func(w *WidgetInput) { w.Grain = "WEEK" }), p + ".grain", "HOUR or DAY"},
		{"monthly by the metric's default", with(func(w *WidgetInput) { w.MetricKeys, w.Grain = []string{"course_completion_rate"}, "" }), p + ".grain", `"MONTH"`},
		{"cohort breakdown", with(func(w *WidgetInput) { w.CohortBreakdown = cohort.ID }), p + ".cohorts", "not filtered by cohort"},
		{"too many series", with(func(w *WidgetInput) { w.Dimensions, w.Limit = []string{"properties.course_id"}, 60 }), p + ".limit", "at most 50"},
		{"unknown detector", lineWith(&Overlay{Anomalies: &AnomalyOverlay{Detector: "oracle"}}), p + ".overlay.anomalies.detector", "use one of ar"},
		{"bad sensitivity", lineWith(&Overlay{Anomalies: &AnomalyOverlay{Sensitivity: "EXTREME"}}), p + ".overlay.anomalies.sensitivity", "LOW, MEDIUM, HIGH"},
		{"unknown monitor", lineWith(&Overlay{Anomalies: &AnomalyOverlay{MonitorID: "nope"}}), p + ".overlay.anomalies.monitorId", "not a monitor of this tenant"},
		{"monitor and detector", lineWith(&Overlay{Anomalies: &AnomalyOverlay{MonitorID: other.ID, Detector: "ar"}}), p + ".overlay.anomalies.monitorId", "not both"},
		{"monitor of another metric", lineWith(&Overlay{Anomalies: &AnomalyOverlay{MonitorID: other.ID}}), p + ".overlay.anomalies.monitorId", `watches metric "enrolments"`},
		{"monitor of another grain", lineWith(&Overlay{Anomalies: &AnomalyOverlay{MonitorID: hourly.ID}}), p + ".overlay.anomalies.monitorId", "set the widget's grain to HOUR"},
		{"monitor with other dimensions", lineWith(&Overlay{Anomalies: &AnomalyOverlay{MonitorID: split.ID}}), p + ".overlay.anomalies.monitorId", "same dimensions"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.svc.Create(ctx, Input{Slug: "v", Title: "V"}, []WidgetInput{tc.w})
			require.True(t, errs.Is(err, errs.KindInvalid), "%v", err)
			assert.Equal(t, tc.field, errs.PublicFields(err)["field"], errs.PublicMessage(err))
			assert.Contains(t, errs.PublicMessage(err), tc.says)
		})
	}

	// Without a monitors service a server refuses overlays on save.
	bare := NewService(e.db, e.reg, e.svc.loaders, Config{Now: e.clock.Now})
	_, err = bare.Create(ctx, Input{Slug: "v", Title: "V"}, []WidgetInput{lineWith(fc(ForecastOverlay{Horizon: 7}))})
	require.True(t, errs.Is(err, errs.KindInvalid), "%v", err)
	assert.Equal(t, p+".overlay", errs.PublicFields(err)["field"])
}
