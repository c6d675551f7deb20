package cohorts_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/cohorts"
	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/metrics/metricstest"
	"github.com/learnhub/analytics-service/timerange"
)

// TestCohortAsMetricFilterAndBreakdown runs metricQuery with cohort
// filters and the in/not-in breakdown against the engine, for counts,
// unique users and a conversion, and checks tenant B's query with A's
// cohort id matches nobody.
func TestCohortAsMetricFilterAndBreakdown(t *testing.T) {
	var reg *metrics.Registry
	db, svc, _ := setupWith(t, func(r *metrics.Registry) cohorts.MetricLookup { reg = r; return r })
	day := 24 * time.Hour
	// Cohort "quizzers": users with a passed quiz — u1 and u3 in tenant a.
	insert(t, db, "a",
		ev{"u1", "quiz.passed", "c1", t0.Add(-3 * day), nil},
		ev{"u1", "lesson.completed", "c1", t0.Add(-3 * day), nil}, ev{"u1", "lesson.completed", "c1", t0.Add(-2 * day), nil},
		ev{"u1", "lesson.completed", "c2", t0.Add(-day), nil},
		ev{"u2", "lesson.completed", "c1", t0.Add(-2 * day), nil}, ev{"u2", "lesson.completed", "c1", t0.Add(-day), nil},
		ev{"u3", "quiz.passed", "c2", t0.Add(-2 * day), nil}, ev{"u3", "lesson.completed", "c2", t0.Add(-day), nil},
		ev{"u2", "course.enrolled", "c1", t0.Add(-3 * day), nil}, ev{"u2", "course.completed", "c1", t0.Add(-day), nil},
		ev{"u3", "course.enrolled", "c2", t0.Add(-3 * day), nil}, ev{"u3", "course.completed", "c2", t0.Add(-day), nil},
		ev{"u1", "course.enrolled", "c1", t0.Add(-3 * day), nil})
	// Tenant b has a u1 with the same behaviour; a's cohort must never select it.
	insert(t, db, "b", ev{"u1", "quiz.passed", "c1", t0.Add(-3 * day), nil}, ev{"u1", "lesson.completed", "c1", t0.Add(-2 * day), nil})

	ctxA, ctxB := metricstest.As("a"), metricstest.As("b")
	c, err := svc.Create(ctxA, cohorts.Cohort{Name: "Quizzers", Criteria: &cohorts.Criteria{Performed: &cohorts.Performed{Type: "quiz.passed", Count: 1}}})
	require.NoError(t, err)

	q := metrics.NewQuerier(db, reg, metrics.QuerierConfig{Now: func() time.Time { return t0 }})
	week := timerange.Spec{Last: "7d"}
	value := func(t *testing.T, ctx context.Context, req metrics.Request) float64 {
		t.Helper()
		res, err := q.Query(ctx, req)
		require.NoError(t, err)
		require.NotNil(t, res.Totals.Value)
		if len(req.Cohorts) > 0 {
			assert.Equal(t, metrics.PathRaw, res.Path, "cohort queries read the events table")
		}
		return *res.Totals.Value
	}
	completions := func(cf ...metrics.CohortFilter) metrics.Request {
		return metrics.Request{MetricKey: "lesson_completions", TimeRange: week, Grain: metrics.GrainTotal, Cohorts: cf}
	}
	assert.Equal(t, 0.0, value(t, ctxA, completions(metrics.CohortFilter{CohortID: c.ID})), "never evaluated: no members")

	_, err = svc.Evaluate(ctxA, c.ID, t0)
	require.NoError(t, err)
	assert.Equal(t, 6.0, value(t, ctxA, completions()))
	assert.Equal(t, 4.0, value(t, ctxA, completions(metrics.CohortFilter{CohortID: c.ID})), "u1 3 + u3 1")
	assert.Equal(t, 2.0, value(t, ctxA, completions(metrics.CohortFilter{CohortID: c.ID, Exclude: true})), "u2 2")
	assert.Equal(t, 0.0, value(t, ctxB, completions(metrics.CohortFilter{CohortID: c.ID})), "another tenant's cohort matches nobody")
	assert.Equal(t, 1.0, value(t, ctxB, completions(metrics.CohortFilter{CohortID: c.ID, Exclude: true})), "…so excluding it keeps all of b")

	// Breakdown, with a dimension and daily buckets: every series adds up.
	res, err := q.Query(ctxA, metrics.Request{MetricKey: "lesson_completions", TimeRange: week, Grain: "DAY",
		Dimensions: []string{"properties.course_id"}, CohortBreakdown: c.ID})
	require.NoError(t, err)
	assert.Equal(t, []string{"properties.course_id", metrics.CohortDimension}, res.Dimensions)
	got := map[[2]string]float64{}
	for _, s := range res.Series {
		got[[2]string(s.Values)] = *s.Total.Value
		var sum float64
		for _, p := range s.Points {
			sum += *p.Value
		}
		assert.Equal(t, *s.Total.Value, sum, "points add up to the series total %v", s.Values)
	}
	assert.Equal(t, map[[2]string]float64{
		{"c1", metrics.InCohort}: 2, {"c2", metrics.InCohort}: 2, {"c1", metrics.NotInCohort}: 2,
	}, got)

	// Unique users and a conversion, broken down by the cohort.
	split := func(key string) map[string]float64 {
		res, err := q.Query(ctxA, metrics.Request{MetricKey: key, TimeRange: week, Grain: metrics.GrainTotal, CohortBreakdown: c.ID})
		require.NoError(t, err)
		out := map[string]float64{}
		for _, s := range res.Series {
			if s.Total.Value != nil {
				out[s.Values[0]] = *s.Total.Value
			}
		}
		return out
	}
	assert.Equal(t, map[string]float64{metrics.InCohort: 2, metrics.NotInCohort: 1}, split("active_learners_dau"))
	_, err = reg.Create(ctxA, metrics.Input{Key: "enrol_to_complete", Name: "Enrol to complete", Kind: metrics.KindConversion,
		Conversion: &metrics.Conversion{StartEvent: "course.enrolled", EndEvent: "course.completed", Window: "7d"}})
	require.NoError(t, err)
	assert.Equal(t, map[string]float64{metrics.InCohort: 0.5, metrics.NotInCohort: 1}, split("enrol_to_complete"),
		"u1 enrolled without completing, u3 completed (in); u2 completed (not in)")

	// Compatible requests with the same cohort filter share one statement.
	results, errs := q.QueryBatch(ctxA, []metrics.Request{completions(metrics.CohortFilter{CohortID: c.ID}),
		{MetricKey: "active_learners_dau", TimeRange: week, Grain: metrics.GrainTotal, Cohorts: []metrics.CohortFilter{{CohortID: c.ID}}}})
	require.NoError(t, errs[0])
	require.NoError(t, errs[1])
	assert.Equal(t, 4.0, *results[0].Totals.Value)
	assert.Equal(t, 2.0, *results[1].Totals.Value)
	assert.Equal(t, 1, results[0].SQLCount, "one statement for the batch")

	_, err = q.Query(ctxA, metrics.Request{MetricKey: "lesson_completions", TimeRange: week,
		Cohorts: []metrics.CohortFilter{{CohortID: c.ID}, {CohortID: c.ID, Exclude: true}}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "filtered on twice")
}
