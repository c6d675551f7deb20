package dashboards

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/cohorts"
	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/timerange"
)

// firstTen are the members of the static cohort of these tests; the
// January fixture has users u0…u39 in every tenant.
var firstTen = []string{"u0", "u1", "u2", "u3", "u4", "u5", "u6", "u7", "u8", "u9"}

// staticCohort creates and evaluates a static cohort of users for the
// tenant of ctx and returns its id.
func staticCohort(t *testing.T, e *env, ctx context.Context, users []string) string {
	t.Helper()
	c, err := e.cohorts.Create(ctx, cohorts.Cohort{Name: "First ten", Static: users})
	require.NoError(t, err)
	_, err = e.cohorts.Evaluate(ctx, c.ID, testNow)
	require.NoError(t, err)
	return c.ID
}

// enrolmentsOf counts a tenant's January enrolments by users, straight
// from the events table (the oracle the widgets are checked against).
func enrolmentsOf(t *testing.T, e *env, tenant string, users []string, members bool) float64 {
	t.Helper()
	var n uint64
	require.NoError(t, e.db.QueryRow(context.Background(), []any{&n}, "SELECT count() FROM events FINAL WHERE tenant_id = ? AND type = 'course.enrolled'"+
		" AND occurred_at >= '2026-01-01 00:00:00' AND occurred_at < '2026-02-01 00:00:00' AND has(?, user_id) = ?", tenant, users, members))
	return float64(n)
}

func TestWidgetCohortsFilterAndBreakDown(t *testing.T) {
	e := newEnv(t)
	seed(t, e.db, "a", 600, 1)
	seed(t, e.db, "b", 900, 2)
	ctxA, ctxB := as("a"), as("b")
	cA := staticCohort(t, e, ctxA, firstTen)

	members := kpi("Members' enrolments", "enrolments")
	members.Cohorts = []metrics.CohortFilter{{CohortID: cA}}
	others := kpi("Others' enrolments", "enrolments")
	others.Cohorts = []metrics.CohortFilter{{CohortID: cA, Exclude: true}}
	split := WidgetInput{Title: "Enrolments by cohort", Kind: KindPie, MetricKeys: []string{"enrolments"},
		CohortBreakdown: cA, Position: Position{W: 3, H: 2}}
	d, err := e.svc.Create(ctxA, Input{Slug: "cohorts", Title: "Cohorts"}, []WidgetInput{members, others, split})
	require.NoError(t, err)
	stored, err := e.svc.Get(ctxA, d.ID)
	require.NoError(t, err)
	assert.Equal(t, members.Cohorts, stored.Widgets[0].Cohorts, "cohort filters are stored with the widget")
	assert.Equal(t, cA, stored.Widgets[2].CohortBreakdown)

	out, err := e.svc.Render(ctxA, d.ID, nil, january())
	require.NoError(t, err)
	for _, wd := range out.Widgets {
		require.Nil(t, wd.Error, "%+v", wd.Error)
		require.Len(t, wd.Results, 1)
	}
	in, notIn := enrolmentsOf(t, e, "a", firstTen, true), enrolmentsOf(t, e, "a", firstTen, false)
	require.Positive(t, in)
	require.Positive(t, notIn)
	assert.Equal(t, in, *out.Widgets[0].Results[0].Totals.Value, "only the members' events")
	assert.Equal(t, notIn, *out.Widgets[1].Results[0].Totals.Value, "only the other users' events")

	bd := out.Widgets[2].Results[0]
	assert.Equal(t, []string{metrics.CohortDimension}, bd.Dimensions)
	byValue := map[string]float64{}
	for _, s := range bd.Series {
		byValue[s.Values[0]] = *s.Total.Value
	}
	assert.Equal(t, map[string]float64{metrics.InCohort: in, metrics.NotInCohort: notIn}, byValue, "the two series")

	rng := rangeOf(t, january())
	want, err := e.q.Query(ctxA, metrics.Request{MetricKey: "enrolments", Grain: metrics.GrainTotal, CohortBreakdown: cA,
		TimeRange: timerange.Spec{From: &rng.From, To: &rng.To}})
	require.NoError(t, err)
	assert.Equal(t, want.Series, bd.Series, "the widget answers what metricQuery answers")

	// The live refresh renders again, bypassing the cache: same answer.
	fresh, err := e.svc.Render(WithFresh(ctxA), d.ID, nil, january())
	require.NoError(t, err)
	assert.False(t, fresh.Widgets[2].Cached)
	assert.Equal(t, bd.Series, fresh.Widgets[2].Results[0].Series)

	// Tenant B cannot name A's cohort, wherever it appears.
	_, err = e.svc.Create(ctxB, Input{Slug: "steal", Title: "Steal"}, []WidgetInput{kpi("Plain", "enrolments"), members})
	require.True(t, errs.Is(err, errs.KindNotFound), "%v", err)
	assert.Equal(t, "widgets[1].cohorts[0].id", errs.PublicFields(err)["field"])
	dB, err := e.svc.Create(ctxB, Input{Slug: "own", Title: "Own"}, []WidgetInput{kpi("Plain", "enrolments")})
	require.NoError(t, err)
	_, err = e.svc.AddWidget(ctxB, dB.ID, dB.Version, split)
	require.True(t, errs.Is(err, errs.KindNotFound), "%v", err)
	assert.Equal(t, "widget.cohortBreakdown", errs.PublicFields(err)["field"])

	// B's own cohort of the same user ids counts B's events only.
	cB := staticCohort(t, e, ctxB, firstTen)
	splitB := split
	splitB.CohortBreakdown = cB
	dB, err = e.svc.AddWidget(ctxB, dB.ID, dB.Version, splitB)
	require.NoError(t, err)
	outB, err := e.svc.Render(ctxB, dB.ID, nil, january())
	require.NoError(t, err)
	require.Nil(t, outB.Widgets[1].Error)
	byValue = map[string]float64{}
	for _, s := range outB.Widgets[1].Results[0].Series {
		byValue[s.Values[0]] = *s.Total.Value
	}
	inB, notInB := enrolmentsOf(t, e, "b", firstTen, true), enrolmentsOf(t, e, "b", firstTen, false)
	assert.Equal(t, map[string]float64{metrics.InCohort: inB, metrics.NotInCohort: notInB}, byValue)
	assert.NotEqual(t, in, inB, "the fixture differs between tenants, so a leak would show")

	// A widget of B naming A's cohort that got past the save check (stored
	// directly here) fails at render; B's render shows nothing of A's.
	scopeB := mustScope(t, "b")
	leaked := clone(dB)
	leaked.Widgets[1].CohortBreakdown = cA
	leaked.Widgets[1].Version++
	leaked.Version++
	require.NoError(t, e.svc.write(ctxB, scopeB, ActionWidgetUpdate, dB, leaked, false))
	outB, err = e.svc.Render(ctxB, dB.ID, nil, january())
	require.NoError(t, err)
	require.NotNil(t, outB.Widgets[1].Error)
	assert.Equal(t, "NOT_FOUND", outB.Widgets[1].Error.Code)
	assert.Contains(t, outB.Widgets[1].Error.Message, "cohortBreakdown")
	assert.Nil(t, outB.Widgets[1].Results[0])
}

func TestWidgetCohortValidation(t *testing.T) {
	e := newEnv(t)
	ctx := as("a")
	c := staticCohort(t, e, ctx, firstTen)
	for _, tc := range []struct {
		name  string
		edit  func(w *WidgetInput)
		kind  errs.Kind
		field string
	}{
		{"empty id", func(w *WidgetInput) { w.Cohorts = []metrics.CohortFilter{{}} }, errs.KindInvalid, "widgets[0].cohorts[0].id"},
		{"repeated", func(w *WidgetInput) { w.Cohorts = []metrics.CohortFilter{{CohortID: c}, {CohortID: c, Exclude: true}} }, errs.KindInvalid, "widgets[0].cohorts[1].id"},
		{"unknown", func(w *WidgetInput) { w.Cohorts = []metrics.CohortFilter{{CohortID: c}, {CohortID: "nope"}} }, errs.KindNotFound, "widgets[0].cohorts[1].id"},
		{"unknown breakdown", func(w *WidgetInput) { w.CohortBreakdown = "nope" }, errs.KindNotFound, "widgets[0].cohortBreakdown"},
		{"pie with a dimension and a breakdown", func(w *WidgetInput) {
			w.Kind, w.Dimensions, w.CohortBreakdown = KindPie, []string{"properties.course_id"}, c
		}, errs.KindInvalid, "widgets[0].dimensions"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := kpi("W", "enrolments")
			tc.edit(&w)
			_, err := e.svc.Create(ctx, Input{Slug: "v", Title: "V"}, []WidgetInput{w})
			require.True(t, errs.Is(err, tc.kind), "%v", err)
			assert.Equal(t, tc.field, errs.PublicFields(err)["field"])
		})
	}
}
