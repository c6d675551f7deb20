package metrics_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/store"
)

func TestRollupMatchesRaw(t *testing.T) {
	e := newEnv(t)
	seed(t, e.db, "acme", 4000, 0)
	seed(t, e.db, "globex", 1500, 2)
	ctx := as("acme")
	for _, r := range []metrics.Request{
		{MetricKey: "enrolments", TimeRange: january, Grain: "DAY"},
		{MetricKey: "active_learners_wau", TimeRange: january, Dimensions: []string{"properties.course_id"}},
		{MetricKey: "avg_quiz_score", TimeRange: january, Grain: "MONTH", Filters: []metrics.Filter{{Dimension: "properties.course_id", Op: metrics.OpIn, Values: []string{"c1", "c2"}}}},
		{MetricKey: "learning_minutes", TimeRange: january, Grain: "WEEK", Dimensions: []string{"type"}},
		{MetricKey: "course_completion_rate", TimeRange: january, Grain: metrics.GrainTotal, Dimensions: []string{"properties.course_id"}, Limit: 2},
	} {
		t.Run(r.MetricKey, func(t *testing.T) {
			raw, err := e.raw.Query(ctx, r)
			require.NoError(t, err)
			roll, err := e.q.Query(ctx, r)
			require.NoError(t, err)
			assert.Equal(t, metrics.PathRaw, raw.Path)
			assert.Equal(t, metrics.PathRollup, roll.Path)
			assertSameResult(t, raw, roll)
		})
	}
}

func TestRollupNotUsedWhenItCannotAnswer(t *testing.T) {
	e := newEnv(t)
	seed(t, e.db, "acme", 500, 0)
	for name, r := range map[string]metrics.Request{
		"hour grain":      {MetricKey: "enrolments", TimeRange: january, Grain: "HOUR"},
		"other zone":      {MetricKey: "enrolments", TimeRange: january, Grain: "DAY", Timezone: "Europe/Berlin"},
		"partial day":     {MetricKey: "enrolments", TimeRange: january, Grain: "DAY"},
		"filter on score": {MetricKey: "quiz_pass_rate", TimeRange: january},
		"new learners":    {MetricKey: "new_learners", TimeRange: january},
	} {
		if name == "partial day" {
			r.TimeRange.From = ptime("2026-01-01T06:00:00Z")
		}
		res, err := e.q.Query(as("acme"), r)
		require.NoError(t, err, name)
		assert.Equal(t, metrics.PathRaw, res.Path, name)
	}
}

// A duplicate delivered in another batch is counted once by the raw path
// (FINAL); the rollup counts it twice until Rebuild.
func TestRollupRebuildRemovesRedeliveredDuplicates(t *testing.T) {
	e := newEnv(t)
	seed(t, e.db, "acme", 600, 0)
	seed(t, e.db, "acme", 600, 0) // the same events again, another insert
	ctx := as("acme")
	r := metrics.Request{MetricKey: "enrolments", TimeRange: january, Grain: "DAY"}
	raw, err := e.raw.Query(ctx, r)
	require.NoError(t, err)
	assert.Equal(t, 100.0, *raw.Totals.Value)
	roll, err := e.q.Query(ctx, r)
	require.NoError(t, err)
	assert.Equal(t, 200.0, *roll.Totals.Value, "documented limitation before a rebuild")
	scope, err := store.DangerousScopeForTenant("acme")
	require.NoError(t, err)
	require.NoError(t, metrics.NewRollups(e.db).Rebuild(context.Background(), scope, *january.From, *january.To))
	roll, err = e.q.Query(ctx, r)
	require.NoError(t, err)
	assertSameResult(t, raw, roll)
}
