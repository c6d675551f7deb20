package events_test

import (
	"bytes"
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/events"
	"github.com/learnhub/analytics-service/jobs"
	"github.com/learnhub/analytics-service/platform/kv/kvtest"
	"github.com/learnhub/analytics-service/platform/queue"
	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/store/storetest"
)

// rollupDDL is a daily rollup shaped like metrics_daily_active.
const rollupDDL = `CREATE TABLE rollup (tenant_id LowCardinality(String), day Date, users AggregateFunction(uniqExact, String))
ENGINE = AggregatingMergeTree PARTITION BY toYYYYMM(day) ORDER BY (tenant_id, day)`

// tableParts returns partition id → active parts of table.
func tableParts(t *testing.T, db *store.DB, table string) map[string]int64 {
	t.Helper()
	rows, err := db.Query(context.Background(), `
		SELECT partition_id, count() FROM system.parts
		WHERE database = currentDatabase() AND table = ? AND active
		GROUP BY partition_id`, table)
	require.NoError(t, err)
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var id string
		var n int64
		require.NoError(t, rows.Scan(&id, &n))
		out[id] = n
	}
	require.NoError(t, rows.Err())
	return out
}

// setupSplitMonths writes three parts of events into May 2024 (current)
// and March 2024 (closed), with redelivered duplicates, and two parts of
// the rollup into May.
func setupSplitMonths(t *testing.T, db *store.DB) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, db.Exec(ctx, eventsDDL))
	require.NoError(t, db.Exec(ctx, rollupDDL))
	for _, month := range []string{"2024-03", "2024-05"} {
		insertEvents(t, db, month, 0, 10, "2024-05-15 00:00:00")
		insertEvents(t, db, month, 5, 15, "2024-05-15 00:00:01")
		insertEvents(t, db, month, 10, 20, "2024-05-15 00:00:02")
	}
	for i := range 2 {
		require.NoError(t, db.Exec(ctx, `INSERT INTO rollup SELECT 'acme', toDate('2024-05-10') + ?, uniqExactState(toString(number)) FROM numbers(5)`, i))
	}
	require.Equal(t, map[string]int64{"202403": 3, "202405": 3}, tableParts(t, db, "events"), "precondition")
	require.Equal(t, map[string]int64{"202405": 2}, tableParts(t, db, "rollup"), "precondition")
}

func TestCurrentMerger(t *testing.T) {
	ctx := context.Background()
	db := storetest.Embedded(t)
	setupSplitMonths(t, db)

	var logs bytes.Buffer
	m := events.NewCurrentMerger(db, events.MergeCurrentConfig{
		Tables: []string{"events", "rollup"},
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		Now:    func() time.Time { return time.Date(2024, 5, 20, 12, 10, 0, 0, time.UTC) },
	})
	parts, err := m.Parts(ctx)
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"events": 3, "rollup": 2}, parts, "the current month's parts")

	require.NoError(t, m.ProcessJob(ctx, jobs.Job{Kind: events.KindMergeCurrent}))
	assert.Equal(t, map[string]int64{"202403": 3, "202405": 1}, tableParts(t, db, "events"),
		"the current month is one part; the closed one is the nightly compactor's")
	assert.Equal(t, int64(20), count(t, db, "SELECT count() FROM events WHERE toYYYYMM(occurred_at) = 202405"),
		"the merge collapsed the redelivered duplicates")
	assert.Equal(t, map[string]int64{"202405": 2}, tableParts(t, db, "rollup"),
		"a table at MaxParts (2) is left to background merges")
	assert.Contains(t, logs.String(), "table=events partition_id=202405 parts_before=3")
	assert.NotContains(t, logs.String(), "table=rollup")

	// Idempotent: a second run finds nothing to do.
	logs.Reset()
	require.NoError(t, m.ProcessJob(ctx, jobs.Job{Kind: events.KindMergeCurrent}))
	assert.Empty(t, logs.String())
	assert.Equal(t, int64(1), tableParts(t, db, "events")["202405"])
}

// TestCurrentMergerOncePerReplicaSet fires the schedule from two scheduler
// replicas in the same minute: one task exists, a worker runs it.
func TestCurrentMergerOncePerReplicaSet(t *testing.T) {
	ctx := context.Background()
	db := storetest.Embedded(t)
	setupSplitMonths(t, db)
	require.NoError(t, db.Exec(ctx, "INSERT INTO rollup SELECT 'acme', toDate(now()), uniqExactState('u')"))
	require.NoError(t, db.Exec(ctx, "INSERT INTO rollup SELECT 'acme', toDate(now()), uniqExactState('v')"))
	require.NoError(t, db.Exec(ctx, "INSERT INTO rollup SELECT 'acme', toDate(now()), uniqExactState('w')"))
	month := time.Now().UTC().Format("200601")
	require.Equal(t, int64(3), tableParts(t, db, "rollup")[month], "precondition")

	rc := redis.NewClient(&redis.Options{Addr: kvtest.StartRedis(t)})
	t.Cleanup(func() { _ = rc.Close() })
	quiet := slog.New(slog.DiscardHandler)
	merger := events.NewCurrentMerger(db, events.MergeCurrentConfig{Tables: []string{"rollup"}, Logger: quiet})
	srv, err := queue.NewServer(rc, queue.Config{Logger: quiet})
	require.NoError(t, err)
	var replicas []*queue.Scheduler
	for range 2 {
		sched := queue.NewScheduler(queue.NewClient(rc, queue.ClientConfig{}), queue.SchedulerConfig{Logger: quiet})
		for _, r := range merger.Jobs() {
			require.NoError(t, sched.Register(*r.Schedule))
		}
		replicas = append(replicas, sched)
	}
	for _, r := range merger.Jobs() {
		srv.Handle(r.Kind, r.Handler)
	}
	require.NoError(t, srv.Start(ctx))
	t.Cleanup(srv.Shutdown)

	at := time.Now()
	first, err := replicas[0].Trigger(ctx, events.KindMergeCurrent, at)
	require.NoError(t, err)
	second, err := replicas[1].Trigger(ctx, events.KindMergeCurrent, at)
	require.NoError(t, err)
	assert.False(t, first.Duplicate)
	assert.True(t, second.Duplicate, "the second replica's firing is the same task")
	assert.Equal(t, first.ID, second.ID)
	insp := asynq.NewInspectorFromRedisClient(rc)
	require.Eventually(t, func() bool {
		info, err := insp.GetTaskInfo(jobs.QueueLow, first.ID)
		require.NoError(t, err)
		return info.State == asynq.TaskStateCompleted
	}, 15*time.Second, 25*time.Millisecond, "the merge task completes (Asynq polls empty queues once a second)")
	assert.Equal(t, int64(1), tableParts(t, db, "rollup")[month])
}
