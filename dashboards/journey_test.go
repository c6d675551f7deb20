package dashboards

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/journeys"
	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/timerange"
)

// januaryFunnel is a funnel over the January fixture's learning types.
func januaryFunnel() *journeys.FunnelRequest {
	step := func(t string) journeys.Step { return journeys.Step{Matcher: journeys.Matcher{EventType: t}} }
	return &journeys.FunnelRequest{Steps: []journeys.Step{step("course.enrolled"), step("lesson.completed"), step("quiz.submitted"), step("course.completed")},
		ConversionWindow: 7 * 24 * time.Hour, Breakdown: &journeys.Breakdown{Property: "course_id", TopN: 3}}
}

func januaryRetention() *journeys.RetentionRequest {
	return &journeys.RetentionRequest{StartEvent: journeys.Matcher{EventType: "course.enrolled"},
		ReturnEvent: journeys.Matcher{EventType: "lesson.completed"}, Period: timerange.GrainWeek, Periods: 4}
}

func januaryPaths() *journeys.PathsRequest {
	return &journeys.PathsRequest{StartEvent: &journeys.Matcher{EventType: "course.enrolled"}, Steps: 3, MaxEdges: 10}
}

// journeyWidgets are a FUNNEL, a RETENTION and a PATHS widget over the fixture.
func journeyWidgets() []WidgetInput {
	return []WidgetInput{
		{Title: "Funnel", Kind: KindFunnel, Journey: &journeys.Query{Funnel: januaryFunnel()}},
		{Title: "Retention", Kind: KindRetention, Journey: &journeys.Query{Retention: januaryRetention()}},
		{Title: "Paths", Kind: KindPaths, Journey: &journeys.Query{Paths: januaryPaths()}},
	}
}

func TestJourneyWidgetsRenderAsTheJourneysServiceAnswersPerTenant(t *testing.T) {
	e := newEnv(t)
	seed(t, e.db, "a", 3000, 1)
	seed(t, e.db, "b", 120, 2)
	// Learners who go through the course in one session each: 3 of a, 1 of b.
	for tenant, users := range map[string]int{"a": 3, "b": 1} {
		for u := range users {
			at := time.Date(2026, 1, 10+u, 9, 0, 0, 0, time.UTC)
			for i, typ := range []string{"course.enrolled", "lesson.completed", "quiz.submitted", "course.completed"} {
				require.NoError(t, e.db.Exec(context.Background(), "INSERT INTO events (tenant_id, event_id, type, user_id, session_id, occurred_at, received_at, properties) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
					tenant, fmt.Sprintf("%s-walk-%d-%d", tenant, u, i), typ, fmt.Sprintf("walker%d", u), fmt.Sprintf("walk%d", u),
					at.Add(time.Duration(i)*time.Minute), at, `{"course_id":"c9"}`))
			}
		}
	}
	answers := map[string]*journeys.Answer{}
	for _, tenant := range []string{"a", "b"} {
		ctx := as(tenant)
		d, err := e.svc.Create(ctx, Input{Slug: "journeys", Title: "Journeys", Timezone: "Europe/Paris"}, journeyWidgets())
		require.NoError(t, err)
		out, err := e.svc.Render(ctx, d.ID, nil, january())
		require.NoError(t, err)
		rng := rangeOf(t, january())
		for i, w := range d.Widgets {
			wd := out.Widgets[i]
			require.Nil(t, wd.Error, "%s: %v", w.Title, wd.Error)
			require.NotNil(t, wd.Journey, w.Title)
			assert.Empty(t, wd.Results)
			want, err := e.journeys.Run(ctx, w.Journey.Over(rng, "Europe/Paris"), "")
			require.NoError(t, err)
			assert.Equal(t, want, wd.Journey, "%s of %s", w.Title, tenant)
		}
		f := out.Widgets[0].Journey.Funnel
		require.Len(t, f.Steps, 4)
		assert.Positive(t, f.Steps[0].Entered)
		assert.NotEmpty(t, f.Breakdowns, "course breakdown")
		assert.NotEmpty(t, out.Widgets[1].Journey.Retention.Cohorts)
		assert.Contains(t, out.Widgets[2].Journey.Paths.Edges, journeys.PathEdge{Step: 1, From: "course.enrolled", To: "lesson.completed",
			Users: map[string]int64{"a": 3, "b": 1}[tenant]}, "the walkers' sessions")
		// The zone of the dashboard is the retention periods' zone: weeks
		// start at Monday 00:00 in Paris.
		start := out.Widgets[1].Journey.Retention.Cohorts[0].Start
		paris, _ := time.LoadLocation("Europe/Paris")
		assert.Equal(t, time.Monday, start.In(paris).Weekday())
		assert.Zero(t, start.In(paris).Hour())

		again, err := e.svc.Render(ctx, d.ID, nil, january())
		require.NoError(t, err)
		for i := range d.Widgets {
			assert.True(t, again.Widgets[i].Cached, "cached like metric widgets")
			first, _ := json.Marshal(out.Widgets[i].Journey)
			cached, _ := json.Marshal(again.Widgets[i].Journey)
			assert.JSONEq(t, string(first), string(cached))
		}
		answers[tenant] = out.Widgets[0].Journey
	}
	// Each tenant's funnel counts only its own users: the fixture gives
	// both 20 enrolled users, the walkers 3 more to a and 1 more to b.
	assert.Equal(t, int64(23), answers["a"].Funnel.Steps[0].Entered)
	assert.Equal(t, int64(21), answers["b"].Funnel.Steps[0].Entered)
	_, err := e.svc.Get(as("b"), "journeys")
	require.NoError(t, err)
}

func TestJourneyWidgetOwnRangeAndFilterNotice(t *testing.T) {
	e := newEnv(t)
	seed(t, e.db, "a", 3000, 1)
	ctx := as("a")
	ret := januaryRetention()
	from, to := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 26, 0, 0, 0, 0, time.UTC)
	ret.TimeRange = timerange.Spec{From: &from, To: &to}
	d, err := e.svc.Create(ctx, Input{Slug: "own", Title: "Own"}, []WidgetInput{{Title: "R", Kind: KindRetention, Journey: &journeys.Query{Retention: ret}}})
	require.NoError(t, err)
	out, err := e.svc.Render(ctx, d.ID, nil, january())
	require.NoError(t, err)
	wd := out.Widgets[0]
	require.Nil(t, wd.Error)
	assert.Len(t, wd.Journey.Retention.Cohorts, 3, "the widget's own three weeks, not the dashboard's January")
	assert.Equal(t, from, wd.Journey.Retention.Cohorts[0].Start.UTC())

	// A dashboard filter does not silently change a journey: it says so.
	out, err = e.svc.Render(ctx, d.ID, []metrics.Filter{{Dimension: "properties.course_id", Op: metrics.OpIn, Values: []string{"c1"}}}, january())
	require.NoError(t, err)
	assert.Contains(t, out.Widgets[0].Notices, `filter "properties.course_id" does not apply to RETENTION widgets`)
}

func TestIdenticalJourneyWidgetsShareOneQuery(t *testing.T) {
	e := newEnv(t)
	seed(t, e.db, "a", 3000, 1)
	ctx := as("a")
	count := func(widgets []WidgetInput, slug string) int64 {
		d, err := e.svc.Create(ctx, Input{Slug: slug, Title: slug}, widgets)
		require.NoError(t, err)
		before := e.counter.queries.Load()
		out, err := e.svc.Render(ctx, d.ID, nil, january())
		require.NoError(t, err)
		for _, wd := range out.Widgets {
			require.Nil(t, wd.Error)
		}
		return e.counter.queries.Load() - before
	}
	one := count(journeyWidgets()[:1], "one")
	w := journeyWidgets()[0]
	w2 := w
	w2.Title = "Same funnel again"
	two := count([]WidgetInput{w, w2}, "two")
	assert.Equal(t, one, two, "the second identical funnel runs no statement of its own")
}

func TestJourneyWidgetValidationNamesTheField(t *testing.T) {
	e := newEnv(t)
	seed(t, e.db, "a", 300, 1)
	seed(t, e.db, "b", 300, 2)
	ctx := as("a")
	other := staticCohort(t, e, as("b"), firstTen)
	d, err := e.svc.Create(ctx, Input{Slug: "v", Title: "V"}, nil)
	require.NoError(t, err)
	funnel := func(edit func(f *journeys.FunnelRequest)) WidgetInput {
		f := januaryFunnel()
		edit(f)
		return WidgetInput{Title: "F", Kind: KindFunnel, Journey: &journeys.Query{Funnel: f}}
	}
	for _, tc := range []struct {
		name  string
		w     WidgetInput
		kind  errs.Kind
		field string
	}{
		{"funnel without its query", WidgetInput{Title: "F", Kind: KindFunnel}, errs.KindInvalid, "widget.funnel"},
		{"funnel with a retention query", WidgetInput{Title: "F", Kind: KindFunnel, Journey: &journeys.Query{Retention: januaryRetention()}}, errs.KindInvalid, "widget.funnel"},
		{"two queries", WidgetInput{Title: "F", Kind: KindFunnel, Journey: &journeys.Query{Funnel: januaryFunnel(), Paths: januaryPaths()}}, errs.KindInvalid, "widget.funnel"},
		{"metric keys", func() WidgetInput {
			w := funnel(func(*journeys.FunnelRequest) {})
			w.MetricKeys = []string{"enrolments"}
			return w
		}(), errs.KindInvalid, "widget.metricKeys"},
		{"a line with a journey", WidgetInput{Title: "L", Kind: KindLine, MetricKeys: []string{"enrolments"}, Journey: &journeys.Query{Paths: januaryPaths()}}, errs.KindInvalid, "widget.kind"},
		{"unknown event type", funnel(func(f *journeys.FunnelRequest) { f.Steps[1].EventType = "lesson.finished" }), errs.KindInvalid, "widget.funnel.steps[1].eventType"},
		{"window not positive", funnel(func(f *journeys.FunnelRequest) { f.ConversionWindow = 0 }), errs.KindInvalid, "widget.funnel.conversionWindow"},
		{"more than 20 steps", funnel(func(f *journeys.FunnelRequest) {
			for len(f.Steps) <= journeys.MaxSteps {
				f.Steps = append(f.Steps, f.Steps[0])
			}
		}), errs.KindInvalid, "widget.funnel.steps"},
		{"another tenant's cohort", funnel(func(f *journeys.FunnelRequest) { f.Cohorts = []string{other} }), errs.KindNotFound, "widget.funnel.cohorts[0]"},
		{"periods over 52", WidgetInput{Title: "R", Kind: KindRetention, Journey: &journeys.Query{Retention: func() *journeys.RetentionRequest {
			r := januaryRetention()
			r.Periods = 53
			return r
		}()}}, errs.KindInvalid, "widget.retention.periods"},
		{"paths of 11 steps", WidgetInput{Title: "P", Kind: KindPaths, Journey: &journeys.Query{Paths: func() *journeys.PathsRequest {
			p := januaryPaths()
			p.Steps = 11
			return p
		}()}}, errs.KindInvalid, "widget.paths.steps"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.svc.AddWidget(ctx, d.ID, d.Version, tc.w)
			require.True(t, errs.Is(err, tc.kind), "%v", err)
			assert.Equal(t, tc.field, errs.PublicFields(err)["field"])
			assert.Contains(t, errs.PublicMessage(err), tc.field)
		})
	}
	// Without a journeys service the kinds are refused on save.
	bare := NewService(e.db, e.reg, nil, Config{Now: e.clock.Now, Cohorts: e.cohorts})
	_, err = bare.AddWidget(ctx, d.ID, d.Version, journeyWidgets()[0])
	require.True(t, errs.Is(err, errs.KindInvalid), "%v", err)
	assert.Equal(t, "widget.kind", errs.PublicFields(err)["field"])
}

func TestJourneyPresetInstallsOnFirstOpen(t *testing.T) {
	e := newEnv(t)
	ctx := as("a")
	d, err := e.svc.Get(ctx, JourneyPresetSlug)
	require.NoError(t, err)
	require.Len(t, d.Widgets, 3)
	assert.Equal(t, []WidgetKind{KindFunnel, KindRetention, KindPaths}, []WidgetKind{d.Widgets[0].Kind, d.Widgets[1].Kind, d.Widgets[2].Kind})
	again, err := e.svc.Get(ctx, JourneyPresetSlug)
	require.NoError(t, err)
	assert.Equal(t, d.ID, again.ID)
	// Deleted, it stays deleted.
	require.NoError(t, e.svc.Delete(ctx, d.ID, d.Version))
	_, err = e.svc.Get(ctx, JourneyPresetSlug)
	assert.True(t, errs.Is(err, errs.KindNotFound), "%v", err)
	// The learner-progress preset is unchanged.
	p, err := e.svc.Get(ctx, PresetSlug)
	require.NoError(t, err)
	assert.Len(t, p.Widgets, 7)
}
