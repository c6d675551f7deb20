package metrics_test

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/metrics/metricstest"
)

// dashboard is a set of compatible requests (same range, grain, dimensions).
func dashboard() []metrics.Request {
	var out []metrics.Request
	for _, k := range []string{"enrolments", "lesson_completions", "active_learners_dau", "avg_quiz_score", "learning_minutes", "course_completion_rate", "quiz_pass_rate"} {
		out = append(out, metrics.Request{MetricKey: k, TimeRange: january, Grain: "WEEK", Dimensions: []string{"properties.course_id"}, CompareTo: metrics.ComparePreviousPeriod})
	}
	return out
}

func TestLoaderBatchesCompatibleRequests(t *testing.T) {
	e := newEnv(t)
	seed(t, e.db, "acme", 3000, 0)
	ctx := as("acme")
	reqs := dashboard()
	// Separate answers first (also installs the catalog).
	want := make([]*metrics.Result, len(reqs))
	for i, r := range reqs {
		res, err := e.raw.Query(ctx, r)
		require.NoError(t, err)
		want[i] = res
	}
	for _, q := range []*metrics.Querier{e.raw, e.q} {
		loader := metrics.NewLoader(q, metrics.LoaderConfig{})
		before := e.counter.queries.Load()
		got := make([]*metrics.Result, len(reqs))
		var wg sync.WaitGroup
		for i, r := range reqs {
			wg.Go(func() {
				res, err := loader.Load(ctx, r)
				assert.NoError(t, err)
				got[i] = res
			})
		}
		wg.Wait()
		// One metadata read, then per path (raw, rollup) one SELECT for the
		// range and one for the comparison, on the rollup path each after
		// the list of its dirty days: quiz_pass_rate filters on the score,
		// which the rollup does not keep, so it reads raw.
		statements := map[string]int{metrics.PathRaw: 2, metrics.PathRollup: 4}
		paths, queries := map[string]bool{}, 1
		for _, g := range got {
			if !paths[g.Path] {
				queries += statements[g.Path]
			}
			paths[g.Path] = true
		}
		assert.Equal(t, int64(queries), e.counter.queries.Load()-before, "queries for %d requests (paths %v)", len(reqs), paths)
		for i := range reqs {
			require.NotNil(t, got[i])
			assert.Equal(t, statements[got[i].Path], got[i].SQLCount)
			assertSameResult(t, want[i], got[i])
		}
	}
}

// assertSameResult compares values of two results, ignoring the path.
func assertSameResult(t *testing.T, want, got *metrics.Result) {
	t.Helper()
	metricstest.AssertSameResult(t, want, got)
}
