package metrics_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/timerange"
)

func ptime(s string) *time.Time { v, _ := time.Parse(time.RFC3339, s); return &v }

var january = timerange.Spec{From: ptime("2026-01-01T00:00:00Z"), To: ptime("2026-02-01T00:00:00Z")}

// handCount runs hand-written SQL returning one number.
func handCount(t *testing.T, e *env, sql string, args ...any) float64 {
	t.Helper()
	var v float64
	require.NoError(t, e.db.QueryRow(context.Background(), []any{&v}, sql, args...))
	return v
}

func TestQueryMatchesHandWrittenSQL(t *testing.T) {
	e := newEnv(t)
	seed(t, e.db, "acme", 3000, 0)
	seed(t, e.db, "globex", 2000, 3)
	for _, tc := range []struct {
		key  string
		sql  string
		args []any
	}{
		{"enrolments", "SELECT count() FROM events FINAL WHERE tenant_id = ? AND type = 'course.enrolled' AND occurred_at >= '2026-01-01' AND occurred_at < '2026-02-01'", nil},
		{"active_learners_dau", "SELECT uniqExact(user_id) FROM events FINAL WHERE tenant_id = ? AND occurred_at >= '2026-01-01' AND occurred_at < '2026-02-01'", nil},
		{"avg_quiz_score", "SELECT avg(toFloat64(properties.score)) FROM events FINAL WHERE tenant_id = ? AND type = 'quiz.submitted'", nil},
		{"learning_minutes", "SELECT sum(toFloat64(properties.seconds)) / 60 FROM events FINAL WHERE tenant_id = ? AND type = 'video.watched'", nil},
		{"course_completion_rate", "SELECT countIf(type = 'course.completed') / countIf(type = 'course.enrolled') FROM events FINAL WHERE tenant_id = ?", nil},
		{"quiz_pass_rate", "SELECT countIf(toFloat64(properties.score) >= 60) / count() FROM events FINAL WHERE tenant_id = ? AND type = 'quiz.submitted'", nil},
		{"new_learners", "SELECT uniqExact(user_id) FROM events FINAL WHERE tenant_id = ?", nil},
	} {
		for _, tenant := range []string{"acme", "globex"} {
			t.Run(tc.key+"/"+tenant, func(t *testing.T) {
				want := handCount(t, e, tc.sql, tenant)
				for name, q := range map[string]*metrics.Querier{"auto": e.q, "raw": e.raw} {
					res, err := q.Query(as(tenant), metrics.Request{MetricKey: tc.key, TimeRange: january, Grain: metrics.GrainTotal})
					require.NoError(t, err, name)
					require.NotNil(t, res.Totals.Value, name)
					assert.InDelta(t, want, *res.Totals.Value, 1e-9, name)
					require.Len(t, res.Series, 1)
					assert.InDelta(t, want, *res.Series[0].Points[0].Value, 1e-9, name)
				}
			})
		}
	}
}

func TestTenantIsolation(t *testing.T) {
	e := newEnv(t)
	seed(t, e.db, "acme", 1000, 0)
	res, err := e.q.Query(as("globex"), metrics.Request{MetricKey: "enrolments", TimeRange: january, Grain: "DAY"})
	require.NoError(t, err)
	assert.Equal(t, 0.0, *res.Totals.Value)
	require.Len(t, res.Series, 1)
	assert.Len(t, res.Series[0].Points, 31, "every day present")
	for _, p := range res.Series[0].Points {
		assert.Equal(t, 0.0, *p.Value)
	}
	_, err = e.q.Query(context.Background(), metrics.Request{MetricKey: "enrolments", TimeRange: january})
	require.Error(t, err, "no tenant fails closed")
}
