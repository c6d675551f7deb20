package insights_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/dashboards"
	"github.com/learnhub/analytics-service/demo"
	"github.com/learnhub/analytics-service/insights"
	"github.com/learnhub/analytics-service/jobs"
	"github.com/learnhub/analytics-service/jobs/jobstest"
	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
)

// TestPinnedInsightChart pins the acceptance question's chart to a
// dashboard: the render draws exactly the stored chart with the question,
// confidence, grounding and time; bad pins are BAD_USER_INPUT naming the
// field; another tenant can neither pin nor render the insight.
func TestPinnedInsightChart(t *testing.T) {
	h := newHarness(t)
	q := &jobstest.Recorder{}
	svc := insights.NewService(h.db, h.tools, q, insights.Config{Now: func() time.Time { return time.Now() }})
	loaders := func() *metrics.Loader { return metrics.NewLoader(h.tools.Querier, metrics.LoaderConfig{}) }
	dash := dashboards.NewService(h.db, h.tools.Registry, loaders, dashboards.Config{Insights: svc, Now: func() time.Time { return demoEnd }})
	demoAdmin, acmeAdmin := as("demo", auth.RoleAdmin), as("acme-corp", auth.RoleAdmin)

	month := demo.AnomalyMonth(demoOpts)
	asked, err := svc.Ask(as("demo", auth.RoleViewer), "Why did course completions drop in "+month.Format("January")+"?", insights.Context{}, "")
	require.NoError(t, err)
	queued, err := svc.Ask(as("demo", auth.RoleViewer), "How many enrolments in May?", insights.Context{}, "")
	require.NoError(t, err)
	handler := svc.Jobs()[0].Handler
	tasks := q.Take(insights.KindAnswer)
	require.Len(t, tasks, 2)
	id, params, err := jobs.TaskID(tasks[0]) // only the first is answered: the second stays QUEUED
	require.NoError(t, err)
	require.NoError(t, handler.ProcessJob(demoAdmin, jobs.Job{ID: id, Kind: tasks[0].Kind, Tenant: tasks[0].Tenant, Params: params, MaxRetry: 2}))
	stored, err := svc.Get(demoAdmin, asked.ID)
	require.NoError(t, err)
	require.Equal(t, insights.StatusSucceeded, stored.Status, stored.Error)
	require.NotEmpty(t, stored.Answer.Charts)
	last := len(stored.Answer.Charts) - 1

	d, err := dash.Create(demoAdmin, dashboards.Input{Slug: "why", Title: "Why"}, nil)
	require.NoError(t, err)
	other, err := dash.Create(acmeAdmin, dashboards.Input{Slug: "why", Title: "Why"}, nil)
	require.NoError(t, err)

	t.Run("pin and render the stored chart", func(t *testing.T) {
		pinned, err := dash.PinInsightChart(demoAdmin, d.ID, 0, asked.ID, last, "")
		require.NoError(t, err)
		require.Len(t, pinned.Widgets, 1)
		w := pinned.Widgets[0]
		assert.Equal(t, dashboards.KindInsight, w.Kind)
		assert.Equal(t, stored.Answer.Charts[last].Title, w.Title, "the chart's title by default")
		assert.Equal(t, &dashboards.InsightRef{InsightID: asked.ID, Chart: last}, w.Insight)

		start := time.Now()
		r, err := dash.Render(demoAdmin, d.ID, []metrics.Filter{{Dimension: "properties.course_id", Op: metrics.OpEq, Values: []string{"x"}}}, nil)
		require.NoError(t, err)
		t.Logf("render of a dashboard with one INSIGHT widget: %v (one keyed read of the insight row)", time.Since(start))
		wd := r.Widgets[0]
		require.Nil(t, wd.Error)
		require.NotNil(t, wd.Insight)
		got := wd.Insight
		want := stored.Answer.Charts[last]
		assert.Equal(t, asked.ID, got.InsightID)
		assert.Equal(t, stored.Question, got.Question)
		assert.Equal(t, stored.Answer.Confidence.Level, got.ConfidenceLevel)
		assert.Equal(t, "HIGH", got.ConfidenceLevel)
		assert.Equal(t, insights.Grounded, got.Grounding)
		assert.Equal(t, stored.CreatedAt, got.AsOf)
		assert.Equal(t, last, got.ChartIndex)
		assert.Equal(t, want.Type, got.Chart.Type)
		assert.Equal(t, want.Title, got.Chart.Title)
		require.Len(t, got.Chart.Series, len(want.Series))
		for i, s := range want.Series {
			assert.Equal(t, s.Name, got.Chart.Series[i].Name)
			assert.Equal(t, s.X, got.Chart.Series[i].X)
			assert.Equal(t, s.Y, got.Chart.Series[i].Y, "the stored numbers, not a recomputation")
		}
		assert.Contains(t, wd.Notices, `filter "properties.course_id" does not apply to INSIGHT widgets: the chart is the insight's stored answer`)
		assert.Empty(t, wd.Results)

		// The explicit title and version path.
		again, err := dash.PinInsightChart(demoAdmin, d.ID, pinned.Version, asked.ID, 0, "Completions")
		require.NoError(t, err)
		assert.Equal(t, "Completions", again.Widgets[1].Title)
		_, err = dash.PinInsightChart(demoAdmin, d.ID, pinned.Version, asked.ID, 0, "")
		assert.True(t, errs.Is(err, errs.KindConflict), "a stale version: %v", err)
	})

	t.Run("bad pins name the field", func(t *testing.T) {
		ok := dashboards.WidgetInput{Title: "t", Kind: dashboards.KindInsight, Insight: &dashboards.InsightRef{InsightID: asked.ID}}
		with := func(f func(w *dashboards.WidgetInput)) dashboards.WidgetInput {
			w := ok
			ref := *ok.Insight
			w.Insight = &ref
			f(&w)
			return w
		}
		for _, tc := range []struct {
			name, field, msg string
			w                dashboards.WidgetInput
		}{
			{"no insight", "widget.insight", "needs widget.insight", with(func(w *dashboards.WidgetInput) { w.Insight = nil })},
			{"empty id", "widget.insight.insightId", "is required", with(func(w *dashboards.WidgetInput) { w.Insight.InsightID = "" })},
			{"unknown id", "widget.insight.insightId", "insight not found in this tenant", with(func(w *dashboards.WidgetInput) { w.Insight.InsightID = "00000000-0000-0000-0000-000000000000" })},
			{"not answered", "widget.insight.insightId", "is QUEUED; pin a chart of an insight once it has SUCCEEDED", with(func(w *dashboards.WidgetInput) { w.Insight.InsightID = queued.ID })},
			{"chart past the end", "widget.insight.chart", "out of range", with(func(w *dashboards.WidgetInput) { w.Insight.Chart = last + 1 })},
			{"negative chart", "widget.insight.chart", "out of range", with(func(w *dashboards.WidgetInput) { w.Insight.Chart = -1 })},
			{"metrics too", "widget.metricKeys", "not metrics", with(func(w *dashboards.WidgetInput) { w.MetricKeys = []string{"course_completions"} })},
			{"a grain", "widget.grain", "for metric widgets", with(func(w *dashboards.WidgetInput) { w.Grain = metrics.Grain("day") })},
			{"insight on a LINE", "widget.kind", "needs kind INSIGHT", with(func(w *dashboards.WidgetInput) { w.Kind = dashboards.KindLine })},
		} {
			t.Run(tc.name, func(t *testing.T) {
				cur, err := dash.Get(demoAdmin, d.ID)
				require.NoError(t, err)
				_, err = dash.AddWidget(demoAdmin, d.ID, cur.Version, tc.w)
				require.Error(t, err)
				assert.True(t, errs.Is(err, errs.KindInvalid), "%v", err)
				assert.Equal(t, tc.field, errs.PublicFields(err)["field"])
				assert.Contains(t, errs.PublicMessage(err), tc.msg)
			})
		}
	})

	t.Run("another tenant cannot pin or see it", func(t *testing.T) {
		_, err := dash.PinInsightChart(acmeAdmin, other.ID, 0, asked.ID, 0, "")
		require.Error(t, err)
		assert.True(t, errs.Is(err, errs.KindInvalid), "%v", err)
		assert.Contains(t, errs.PublicMessage(err), "insight not found in this tenant")
		assert.NotContains(t, errs.PublicMessage(err), stored.Question)
		_, err = dash.AddWidget(acmeAdmin, other.ID, other.Version, dashboards.WidgetInput{Title: "t", Kind: dashboards.KindInsight,
			Insight: &dashboards.InsightRef{InsightID: asked.ID}})
		assert.True(t, errs.Is(err, errs.KindInvalid), "%v", err)
		_, err = dash.Render(acmeAdmin, d.ID, nil, nil)
		assert.True(t, errs.Is(err, errs.KindNotFound), "demo's dashboard: %v", err)
		_, err = svc.InsightSnapshot(acmeAdmin, asked.ID)
		assert.True(t, errs.Is(err, errs.KindNotFound), "%v", err)
		r, err := dash.Render(acmeAdmin, other.ID, nil, nil)
		require.NoError(t, err)
		assert.Empty(t, r.Widgets, "nothing was pinned")

		// A stored widget of acme-corp naming demo's insight (written
		// around the service, as a corrupted row would be) renders an
		// error, never demo's chart: the render reads with the caller's tenant.
		forged := *other
		forged.Version = other.Version + 1
		forged.Widgets = []dashboards.Widget{{ID: "w1", Version: 1, WidgetInput: dashboards.WidgetInput{Title: "forged", Kind: dashboards.KindInsight,
			Insight: &dashboards.InsightRef{InsightID: asked.ID}, Position: dashboards.Position{W: 6, H: 4}}}}
		js, err := json.Marshal(forged)
		require.NoError(t, err)
		require.NoError(t, h.db.Insert(context.Background(), store.Insert{Table: "dashboards",
			Columns: []string{"tenant_id", "dashboard_id", "slug", "version", "is_deleted", "title", "definition", "updated_at", "updated_by"},
			Rows:    [][]any{{"acme-corp", other.ID, other.Slug, forged.Version, uint8(0), other.Title, string(js), time.Now().UTC(), "test"}}}))
		fresh := dashboards.NewService(h.db, h.tools.Registry, loaders, dashboards.Config{Insights: svc, Now: func() time.Time { return demoEnd }})
		r, err = fresh.Render(acmeAdmin, other.ID, nil, nil)
		require.NoError(t, err)
		require.Len(t, r.Widgets, 1, "the forged widget is read")
		assert.Nil(t, r.Widgets[0].Insight, "no data of demo's insight")
		require.NotNil(t, r.Widgets[0].Error)
		assert.Equal(t, "BAD_USER_INPUT", r.Widgets[0].Error.Code)
		assert.Contains(t, r.Widgets[0].Error.Message, "insight not found in this tenant")
		assert.NotContains(t, r.Widgets[0].Error.Message, stored.Question)
	})
}
