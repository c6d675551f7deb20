package metrics_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/timerange"
)

// A split request joined from its closed days and today equals the
// querier's answer over the whole window, bucket by bucket and series by
// series: counts with and without dimensions, by hour, by day and as a
// total, a top-N folded after the join, ratios of counts, filters and a
// zone off UTC by half an hour.
func TestSplitEqualsWholeWindow(t *testing.T) {
	e := newEnv(t)
	src := uint64(time.Now().UnixNano())
	t.Logf("random seed %d", src)
	rnd := rand.New(rand.NewPCG(src, 2))
	seed(t, e.db, "acme", 1000+rnd.IntN(3000), rnd.IntN(1000))
	ctx := as("acme")
	course := []string{"properties.course_id"}
	byType := []string{"type", "properties.course_id"}
	someCourses := []metrics.Filter{{Dimension: "properties.course_id", Op: metrics.OpIn, Values: []string{"c0", "c2", "c4"}}}
	cases := []struct {
		name string
		req  metrics.Request
	}{
		{"count by day", metrics.Request{MetricKey: "enrolments", Grain: timerange.GrainDay}},
		{"count by hour in Kolkata", metrics.Request{MetricKey: "course_completions", Grain: timerange.GrainHour, Timezone: "Asia/Kolkata"}},
		{"count total", metrics.Request{MetricKey: "enrolments", Grain: metrics.GrainTotal}},
		{"count by course and day", metrics.Request{MetricKey: "enrolments", Grain: timerange.GrainDay, Dimensions: course}},
		{"top 2 courses folded", metrics.Request{MetricKey: "enrolments", Grain: metrics.GrainTotal, Dimensions: course, Limit: 2}},
		{"top 3 of type and course by day, ascending", metrics.Request{MetricKey: "quiz_submissions", Grain: timerange.GrainDay, Dimensions: byType, Limit: 3, OrderBy: metrics.OrderValueAsc}},
		{"count filtered by day in Kolkata", metrics.Request{MetricKey: "lesson_completions", Grain: timerange.GrainDay, Filters: someCourses, Timezone: "Asia/Kolkata"}},
		{"ratio by course", metrics.Request{MetricKey: "course_completion_rate", Grain: metrics.GrainTotal, Dimensions: course}},
		{"ratio by day, default grain is monthly", metrics.Request{MetricKey: "course_completion_rate", Grain: timerange.GrainDay}},
		{"ratio total filtered in Kolkata", metrics.Request{MetricKey: "course_completion_rate", Grain: metrics.GrainTotal, Filters: someCourses, Timezone: "Asia/Kolkata"}},
		{"ratio top 1 by course and day", metrics.Request{MetricKey: "course_completion_rate", Grain: timerange.GrainDay, Dimensions: course, Limit: 1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			loc, err := timerange.Location(tc.req.Timezone, "timezone")
			require.NoError(t, err)
			rng := timerange.Range{From: time.Date(2026, 1, 1, 0, 0, 0, 0, loc).UTC(), To: time.Date(2026, 2, 1, 0, 0, 0, 0, loc).UTC()}
			now := time.Date(2026, 1, 10+rnd.IntN(21), rnd.IntN(24), 0, 0, 0, loc)
			req := tc.req
			req.TimeRange = timerange.Spec{From: &rng.From, To: &rng.To}
			def, err := e.reg.GetByKey(ctx, req.MetricKey)
			require.NoError(t, err)
			split, ok := metrics.NewSplit(req, def, e.reg.KeyLookup(ctx), rng, loc)
			require.True(t, ok)
			cut, ok := metrics.Cut(rng, now, loc)
			require.True(t, ok)
			got, err := split.Query(ctx, nil, "acme", "gen", rng, cut, false, e.q.Query)
			require.NoError(t, err)
			want, err := e.q.Query(ctx, req)
			require.NoError(t, err)
			require.NotEmpty(t, want.Series)
			assert.Equal(t, want.Series, got.Series, "every bucket of every series")
			assert.Equal(t, want.Totals, got.Totals)
			assert.Equal(t, want.Dimensions, got.Dimensions)
			assert.Equal(t, want.Grain, got.Grain)
			assert.Equal(t, want.Range, got.Range)
			assert.Equal(t, want.Metric.Key, got.Metric.Key)
		})
	}
}

// What is not additive is recomputed whole: NewSplit refuses it.
func TestSplitRefusesWhatDoesNotAdd(t *testing.T) {
	e := newEnv(t)
	ctx := as("acme")
	rng := timerange.Range{From: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), To: testNow}
	cases := []struct {
		name string
		req  metrics.Request
	}{
		{"distinct users", metrics.Request{MetricKey: "active_learners_dau", Grain: metrics.GrainTotal}},
		{"average", metrics.Request{MetricKey: "avg_quiz_score", Grain: metrics.GrainTotal}},
		{"float sum", metrics.Request{MetricKey: "learning_minutes", Grain: timerange.GrainDay}},
		{"comparison", metrics.Request{MetricKey: "enrolments", Grain: timerange.GrainDay, CompareTo: metrics.ComparePreviousPeriod}},
		{"weekly", metrics.Request{MetricKey: "enrolments", Grain: timerange.GrainWeek}},
		{"cohort", metrics.Request{MetricKey: "enrolments", Grain: timerange.GrainDay, CohortBreakdown: "c"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := tc.req
			req.TimeRange = timerange.Spec{From: &rng.From, To: &rng.To}
			def, err := e.reg.GetByKey(ctx, req.MetricKey)
			require.NoError(t, err)
			_, ok := metrics.NewSplit(req, def, e.reg.KeyLookup(ctx), rng, time.UTC)
			assert.False(t, ok)
		})
	}
}
