package cohorts_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/cohorts"
	"github.com/learnhub/analytics-service/jobs"
	"github.com/learnhub/analytics-service/metrics/metricstest"
)

// recorder is an Enqueuer that keeps the tasks with their TaskIDs.
type recorder struct{ ids map[string]jobs.Task }

func (r *recorder) Enqueue(_ context.Context, t jobs.Task) (jobs.Receipt, error) {
	id, _, err := jobs.TaskID(t)
	if err != nil {
		return jobs.Receipt{}, err
	}
	r.ids[id] = t
	return jobs.Receipt{}, nil
}

func TestHourlyJobEnqueuesActiveCohortsOfEveryTenantOnce(t *testing.T) {
	db, svc, b := setup(t)
	insert(t, db, "a", ev{"u1", "quiz.submitted", "c1", t0.Add(-time.Hour), map[string]any{"score": 30}})
	insert(t, db, "b", ev{"u7", "user.login", "", t0.Add(-time.Hour), nil})
	crit := &cohorts.Criteria{Metric: &cohorts.MetricThreshold{Key: "quiz_submissions", Op: ">=", Value: 1}}
	a1, err := svc.Create(metricstest.As("a"), cohorts.Cohort{Name: "Quizzers", Active: true, Criteria: crit})
	require.NoError(t, err)
	_, err = svc.Create(metricstest.As("a"), cohorts.Cohort{Name: "Paused", Active: false, Criteria: crit})
	require.NoError(t, err)
	b1, err := svc.Create(metricstest.As("b"), cohorts.Cohort{Name: "Everyone", Active: true, Criteria: &cohorts.Criteria{LastSeen: &cohorts.Seen{After: "30d"}}})
	require.NoError(t, err)

	q := &recorder{ids: map[string]jobs.Task{}}
	all := svc.EvaluateAllHandler(q)
	for range 2 { // a second run in the same hour enqueues the same task ids
		require.NoError(t, all.ProcessJob(context.Background(), jobs.Job{Kind: cohorts.KindEvaluateAll}))
	}
	require.Len(t, q.ids, 2, "one task per active cohort, deduplicated by TaskID")
	got := map[string]string{}
	for _, task := range q.ids {
		assert.Equal(t, cohorts.KindEvaluate, task.Kind)
		raw, err := json.Marshal(task.Params)
		require.NoError(t, err)
		got[task.Tenant] = string(raw)
	}
	assert.JSONEq(t, `{"cohort_id":"`+a1.ID+`","scheduled_for":"2026-06-01T12:00:00Z"}`, got["a"])
	assert.JSONEq(t, `{"cohort_id":"`+b1.ID+`","scheduled_for":"2026-06-01T12:00:00Z"}`, got["b"])

	run := svc.EvaluateHandler()
	for _, task := range q.ids {
		raw, _ := json.Marshal(task.Params)
		for range 2 { // at-least-once: a redelivery changes nothing
			require.NoError(t, run.ProcessJob(context.Background(), jobs.Job{Kind: task.Kind, Tenant: task.Tenant, Params: raw}))
		}
	}
	members, _, err := svc.Members(metricstest.As("a"), a1.ID, 10, "")
	require.NoError(t, err)
	assert.Equal(t, []string{"u1"}, members, "the job resolved a's metric as tenant a")
	members, _, err = svc.Members(metricstest.As("b"), b1.ID, 10, "")
	require.NoError(t, err)
	assert.Equal(t, []string{"u7"}, members)
	assert.Equal(t, uint64(2), published(t, b), "one event per cohort for the hour")

	e := cohorts.Entry("")
	assert.Equal(t, "2006-01-02T15", e.KeyLayout, "one evaluate-all per hour")
	assert.Equal(t, cohorts.KindEvaluateAll, e.Task.Kind)
}
