package monitors_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/jobs"
	"github.com/learnhub/analytics-service/monitors"
)

// A fresh service with data and no evaluation yet (the demo seed just
// loaded, or a service started between two DAY ticks): a catch-up scores
// every tenant's key-metric monitors at once instead of leaving them to
// the 00:20 UTC tick; it shares the tick's task for the bucket, so nothing
// runs twice; once scored, another catch-up enqueues nothing; a rescore
// rewrites the window under its own key.
func TestCatchUpScoresKeyMonitorsWithoutWaitingForTheTick(t *testing.T) {
	e := setup(t)
	seedDemo(t, e.db, 300, 120)
	ctx := context.Background()
	tenants := []string{"acme-corp", "demo", "northwind-school"}

	catchUp := func(reason string, rescore bool) []jobs.Task {
		t.Helper()
		_, err := e.svc.CatchUp(ctx, reason, rescore)
		require.NoError(t, err)
		tasks := e.queue.Take(monitors.KindCatchUp)
		require.Len(t, tasks, 1)
		id, raw, err := jobs.TaskID(tasks[0])
		require.NoError(t, err)
		require.NoError(t, e.svc.CatchUpHandler().ProcessJob(ctx, jobs.Job{ID: id, Kind: monitors.KindCatchUp, Params: raw}))
		return e.queue.Take(monitors.KindEvaluate)
	}
	evalTenants := func(tasks []jobs.Task) []string {
		var out []string
		for _, task := range tasks {
			out = append(out, task.Tenant)
		}
		return out
	}

	// Before: the key monitors have no score.
	sc, err := e.svc.Scores(ctx, "demo", "key:course_completions", demoEnd.AddDate(0, 0, -monitors.DayHistory), demoEnd)
	require.NoError(t, err)
	require.Empty(t, sc)
	done, err := e.svc.Evaluated(ctx, "demo", "key:course_completions", demoEnd)
	require.NoError(t, err)
	assert.False(t, done, "an alert rule on it waits (alerts.AnomalyReadiness)")

	evals := catchUp("start:test", false)
	assert.Equal(t, tenants, evalTenants(evals), "every tenant with data is behind (no HOUR monitor: DAY tasks only)")
	raw, _ := json.Marshal(map[string]string{"grain": "DAY"})
	require.NoError(t, e.svc.TickHandler().ProcessJob(ctx, jobs.Job{Kind: monitors.KindTick, Params: raw}))
	ticks := e.queue.Take(monitors.KindEvaluate)
	require.Len(t, ticks, len(evals))
	for i := range evals {
		a, _, err := jobs.TaskID(evals[i])
		require.NoError(t, err)
		b, _, err := jobs.TaskID(ticks[i])
		require.NoError(t, err)
		assert.Equal(t, b, a, "%s: the catch-up's evaluation is the tick's task (one run per bucket)", evals[i].Tenant)
	}
	for _, task := range evals {
		_, _ = e.queue.Enqueue(ctx, task)
	}
	require.Equal(t, 3, runTasks(t, e, monitors.KindEvaluate, e.svc.EvaluateHandler()))
	for _, tenant := range tenants {
		sc, err := e.svc.Scores(ctx, tenant, "key:course_completions", demoEnd.AddDate(0, 0, -monitors.DayHistory), demoEnd)
		require.NoError(t, err)
		assert.Len(t, sc, monitors.DayHistory, "%s: the key monitor is scored over its whole window", tenant)
	}

	done, err = e.svc.Evaluated(ctx, "demo", "key:course_completions", demoEnd)
	require.NoError(t, err)
	assert.True(t, done, "evaluated for the buckets before demoEnd")
	done, err = e.svc.Evaluated(ctx, "demo", "key:course_completions", demoEnd.AddDate(0, 0, 1))
	require.NoError(t, err)
	assert.False(t, done, "not for the next day")
	done, err = e.svc.Evaluated(ctx, "demo", "no-such-monitor", demoEnd)
	require.NoError(t, err)
	assert.True(t, done, "nothing to wait for")

	assert.Empty(t, catchUp("start:again", false), "up to date: nothing to catch up")

	rescore := catchUp("demo-seed:test", true)
	assert.Equal(t, tenants, evalTenants(rescore), "a rescore evaluates every tenant with data again")
	for i := range rescore {
		a, _, _ := jobs.TaskID(rescore[i])
		b, _, _ := jobs.TaskID(ticks[i])
		assert.NotEqual(t, b, a, "a rescore is not the tick's task")
	}
	before, sum := tableState(t, e.db)
	for _, task := range rescore {
		_, _ = e.queue.Enqueue(ctx, task)
	}
	require.Equal(t, 3, runTasks(t, e, monitors.KindEvaluate, e.svc.EvaluateHandler()))
	after, sum2 := tableState(t, e.db)
	assert.Equal(t, before, after, "the same data rescored writes the same rows")
	assert.Equal(t, sum, sum2)
}
