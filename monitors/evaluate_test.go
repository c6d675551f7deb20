package monitors_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/jobs"
	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/metrics/metricstest"
	"github.com/learnhub/analytics-service/monitors"
	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/timerange"
)

// tableState is the row count and an order-independent checksum of every
// stored score (FINAL, so replaced rows count once).
func tableState(t *testing.T, db *store.DB) (rows uint64, sum uint64) {
	t.Helper()
	r, err := db.Query(context.Background(), `SELECT count(), sum(cityHash64(tenant_id, monitor_id, series_key, bucket, value, expected, score, confidence, anomalous, query, version))
		FROM monitor_scores FINAL`)
	require.NoError(t, err)
	defer r.Close()
	require.True(t, r.Next())
	require.NoError(t, r.Scan(&rows, &sum))
	return rows, sum
}

// runTasks runs every recorded task of kind through handler, twice (at
// least once delivery).
func runTasks(t *testing.T, e *env, kind string, h jobs.Handler) int {
	t.Helper()
	tasks := e.queue.Take(kind)
	for _, task := range tasks {
		raw, err := json.Marshal(task.Params)
		require.NoError(t, err)
		for range 2 {
			require.NoError(t, h.ProcessJob(context.Background(), jobs.Job{Kind: task.Kind, Tenant: task.Tenant, Params: raw}))
		}
	}
	return len(tasks)
}

func TestBackfillTickIdempotencyAndScoresExport(t *testing.T) {
	e := setup(t)
	seedDemo(t, e.db, 300, 120)
	a := metricstest.As("demo")
	m, err := e.svc.Create(a, monitors.Monitor{MetricKey: "lesson_completions", Grain: "DAY", Dimensions: []string{"properties.course_id"}, TopN: 2, Active: true})
	require.NoError(t, err)
	require.Equal(t, 1, runTasks(t, e, monitors.KindBackfill, e.svc.BackfillHandler()))

	from, to := demoEnd.AddDate(0, 0, -monitors.DayHistory), demoEnd
	scores, err := e.svc.Scores(context.Background(), "demo", m.ID, from, to)
	require.NoError(t, err)
	series := map[string]int{}
	for _, s := range scores {
		raw, _ := json.Marshal(s.Series)
		series[string(raw)]++
		assert.Equal(t, "counts", s.Detector, "a COUNT metric at DAY grain gets the count detector")
		assert.GreaterOrEqual(t, s.Score, 0.0)
		assert.LessOrEqual(t, s.Score, 1.0)
	}
	assert.Len(t, series, 3, "top 2 courses and (other)")
	for k, n := range series {
		assert.Equal(t, monitors.DayHistory, n, "series %s: every day of the window is scored", k)
	}
	rows, _ := tableState(t, e.db)
	assert.Equal(t, uint64(3*monitors.DayHistory), rows)

	// The Query of a score reproduces its value through the metric layer.
	var pick monitors.Score
	for _, s := range scores {
		if s.Value > 0 && s.Series["properties.course_id"] != metrics.OtherBucket {
			pick = s
		}
	}
	require.NotZero(t, pick.Value)
	var q struct {
		MetricKey string
		Grain     metrics.Grain
		Filters   []metrics.Filter
		TimeRange struct{ From, To time.Time }
	}
	require.NoError(t, json.Unmarshal([]byte(pick.Query), &q))
	res, err := metrics.NewQuerier(e.db, e.reg, metrics.QuerierConfig{}).Query(a, metrics.Request{MetricKey: q.MetricKey, Grain: q.Grain,
		Filters: q.Filters, TimeRange: timerange.Spec{From: &q.TimeRange.From, To: &q.TimeRange.To}})
	require.NoError(t, err)
	require.Len(t, res.Series, 1)
	assert.Equal(t, pick.Value, *res.Series[0].Points[0].Value, "query %s", pick.Query)

	// A tick twice at the same time changes nothing; the backfill again neither.
	for range 2 {
		st, err := e.svc.Evaluate(context.Background(), "demo", monitors.GrainDay, now)
		require.NoError(t, err)
		assert.Positive(t, st.Monitors)
	}
	_, err = e.svc.Evaluate(context.Background(), "demo", monitors.GrainDay, now)
	require.NoError(t, err)
	rows2, _ := tableState(t, e.db)
	assert.Greater(t, rows2, rows, "the first tick backfilled the key-metric defaults")
	before2, sum2 := tableState(t, e.db)
	_, err = e.svc.Evaluate(context.Background(), "demo", monitors.GrainDay, now)
	require.NoError(t, err)
	after2, sum3 := tableState(t, e.db)
	assert.Equal(t, before2, after2, "a repeated tick writes the same rows")
	assert.Equal(t, sum2, sum3)
	scores2, err := e.svc.Scores(context.Background(), "demo", m.ID, from, to)
	require.NoError(t, err)
	assert.Equal(t, verdicts(scores), verdicts(scores2), "the tick rewrote the newest buckets with the same verdicts")

	// The next day's tick scores the new bucket only.
	st, err := e.svc.Evaluate(context.Background(), "demo", monitors.GrainDay, now.Add(24*time.Hour))
	require.NoError(t, err)
	assert.Equal(t, 0, st.Errors)
	run, ok, err := e.svc.LastRun(a, m)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, monitors.RunTick, run.Kind)
	assert.Equal(t, 3*monitors.TickBuckets, run.Scored)

	// Tenant isolation of the export: another tenant's caller is refused,
	// another tenant's id is not found.
	_, err = e.svc.Scores(metricstest.As("acme-corp"), "demo", m.ID, from, to)
	assert.Error(t, err)
	_, err = e.svc.Scores(context.Background(), "acme-corp", m.ID, from, to)
	assert.Error(t, err)
}

func TestDefaultsAreEvaluatedForEveryTenant(t *testing.T) {
	e := setup(t)
	seedDemo(t, e.db, 300, 120)
	tick := e.svc.TickHandler()
	raw, _ := json.Marshal(map[string]string{"grain": "DAY"})
	require.NoError(t, tick.ProcessJob(context.Background(), jobs.Job{Kind: monitors.KindTick, Params: raw}))
	evals := e.queue.Take(monitors.KindEvaluate)
	tenants := map[string]bool{}
	for _, task := range evals {
		tenants[task.Tenant] = true
	}
	assert.Equal(t, map[string]bool{"demo": true, "acme-corp": true, "northwind-school": true}, tenants,
		"one evaluation per tenant with recent events, though nobody created a monitor")
	for _, task := range evals { // back in the queue, to run them
		_, _ = e.queue.Enqueue(context.Background(), task)
	}
	require.Equal(t, 3, runTasks(t, e, monitors.KindEvaluate, e.svc.EvaluateHandler()))

	for _, tenant := range []string{"demo", "acme-corp", "northwind-school"} {
		list, err := e.svc.List(context.Background(), tenant)
		require.NoError(t, err)
		for _, m := range list {
			if !m.Default {
				continue
			}
			sc, err := e.svc.Scores(context.Background(), tenant, m.ID, demoEnd.AddDate(0, 0, -monitors.DayHistory), demoEnd)
			require.NoError(t, err)
			if m.ID == "key:avg_quiz_score" || m.ID == "key:course_completion_rate" {
				assert.NotEmpty(t, sc, "%s %s: days without a value are not scored", tenant, m.ID)
				continue
			}
			assert.Equal(t, monitors.DayHistory, len(sc), "%s %s: the first evaluation backfilled the window", tenant, m.ID)
		}
	}

	// Switched off: no new run.
	a := metricstest.As("acme-corp")
	_, err := e.svc.Update(a, "key:course_completions", 0, monitors.Monitor{MetricKey: "course_completions", Grain: "DAY", Active: false})
	require.NoError(t, err)
	st, err := e.svc.Evaluate(context.Background(), "acme-corp", monitors.GrainDay, now.Add(24*time.Hour))
	require.NoError(t, err)
	list, err := e.svc.List(context.Background(), "acme-corp")
	require.NoError(t, err)
	active := 0
	for _, m := range list {
		if m.Active && m.Grain == monitors.GrainDay {
			active++
		}
	}
	assert.Equal(t, active, st.Monitors, "only active monitors are evaluated")
	m, err := e.svc.Get(a, "key:course_completions")
	require.NoError(t, err)
	_, ok, err := e.svc.LastRun(a, m)
	require.NoError(t, err)
	assert.False(t, ok, "the switched-off version never ran")

	e2 := monitors.Entry(monitors.GrainDay, "")
	assert.Equal(t, monitors.DaySpec, e2.Spec)
	assert.Equal(t, "2006-01-02", e2.KeyLayout)
	assert.Equal(t, "2006-01-02T15", monitors.Entry(monitors.GrainHour, "").KeyLayout)
}

// failing fails the requests of one metric key, like an engine error on
// one monitor's query.
type failing struct {
	q   monitors.Querier
	key string
}

func (f failing) QueryBatch(ctx context.Context, reqs []metrics.Request) ([]*metrics.Result, []error) {
	res, errList := f.q.QueryBatch(ctx, reqs)
	for i, r := range reqs {
		if r.MetricKey == f.key {
			res[i], errList[i] = nil, errors.New("engine exploded")
		}
	}
	return res, errList
}

func TestOneFailingMonitorNeverStopsTheOthers(t *testing.T) {
	e := setup(t)
	seedDemo(t, e.db, 300, 120)
	clock := func() time.Time { return now }
	q := metrics.NewQuerier(e.db, e.reg, metrics.QuerierConfig{Now: clock})
	svc := monitors.NewService(e.db, e.reg, failing{q: q, key: "new_learners"}, monitors.Config{Now: clock})
	st, err := svc.Evaluate(context.Background(), "demo", monitors.GrainDay, now)
	require.NoError(t, err)
	assert.Equal(t, 1, st.Errors)
	a := metricstest.As("demo")
	bad, err := svc.Get(a, "key:new_learners")
	require.NoError(t, err)
	run, ok, err := svc.LastRun(a, bad)
	require.NoError(t, err)
	require.True(t, ok)
	require.Len(t, run.Errors, 1)
	assert.NotContains(t, run.Errors[0].Error, "exploded", "driver details stay in the log")
	good, err := svc.Get(a, "key:course_completions")
	require.NoError(t, err)
	run, ok, err = svc.LastRun(a, good)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Empty(t, run.Errors)
	assert.Equal(t, monitors.DayHistory, run.Scored)
	assert.Equal(t, monitors.RunBackfill, run.Kind)
}

// verdicts renders scores without their evaluation time, NaN-safe.
func verdicts(scores []monitors.Score) []string {
	out := make([]string, len(scores))
	for i, s := range scores {
		out[i] = fmt.Sprintf("%v %v %v %v %v %v %v %v", s.Bucket, s.Series, s.Value, s.Expected, s.Lower, s.Score, s.Confidence, s.Anomalous)
	}
	return out
}
