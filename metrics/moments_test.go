package metrics_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/timerange"
)

// TestQueryMoments checks the moments of avg_quiz_score per course against
// hand-written SQL, that they reproduce Query's means, that tenant B reads
// only its own rows, and that other kinds are refused with a message.
func TestQueryMoments(t *testing.T) {
	e := newEnv(t)
	seed(t, e.db, "t1", 3000, 0)
	seed(t, e.db, "t2", 600, 7)
	from, to := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), testNow
	jan := timerange.Spec{From: &from, To: &to}

	for _, tenant := range []string{"t1", "t2"} {
		t.Run(tenant, func(t *testing.T) {
			ctx := as(tenant)
			res, err := e.q.QueryMoments(ctx, metrics.Request{MetricKey: "avg_quiz_score", TimeRange: jan, Dimensions: []string{"properties.course_id"}})
			require.NoError(t, err)
			rows, err := e.db.Query(context.Background(), `
				SELECT toString(properties.course_id) AS c, count(), sum(toFloat64(properties.score)), sum(pow(toFloat64(properties.score), 2))
				FROM events FINAL WHERE tenant_id = ? AND type = 'quiz.submitted' GROUP BY c ORDER BY c`, tenant)
			require.NoError(t, err)
			var want []metrics.Moments
			var total metrics.Moments
			for rows.Next() {
				var m metrics.Moments
				var c string
				var n uint64
				require.NoError(t, rows.Scan(&c, &n, &m.Sum, &m.SumSquares))
				m.Values, m.Count = []string{c}, float64(n)
				want = append(want, m)
				total.Count, total.Sum, total.SumSquares = total.Count+m.Count, total.Sum+m.Sum, total.SumSquares+m.SumSquares
			}
			require.NoError(t, rows.Err())
			rows.Close()
			require.NotEmpty(t, want)
			assert.Equal(t, want, res.Groups)
			assert.Equal(t, total, res.Total)
			assert.Contains(t, res.SQL, "tenant_id", "the tenant guard is in the statement")

			// The means agree with the metric layer's.
			q, err := e.raw.Query(ctx, metrics.Request{MetricKey: "avg_quiz_score", TimeRange: jan, Dimensions: []string{"properties.course_id"}})
			require.NoError(t, err)
			require.NotNil(t, q.Totals.Value)
			assert.InDelta(t, *q.Totals.Value, res.Total.Mean(), 1e-9)
			assert.Greater(t, res.Total.Variance(), 0.0)
		})
	}

	t.Run("count metric refused", func(t *testing.T) {
		_, err := e.q.QueryMoments(as("t1"), metrics.Request{MetricKey: "enrolments", TimeRange: jan})
		require.Error(t, err)
		assert.True(t, errs.Is(err, errs.KindInvalid))
		assert.Contains(t, errs.PublicMessage(err), "moments are defined for AVG metrics only")
	})
	t.Run("unknown dimension refused", func(t *testing.T) {
		_, err := e.q.QueryMoments(as("t1"), metrics.Request{MetricKey: "avg_quiz_score", TimeRange: jan, Dimensions: []string{"properties.nope"}})
		require.Error(t, err)
		assert.True(t, errs.Is(err, errs.KindInvalid))
	})
}
