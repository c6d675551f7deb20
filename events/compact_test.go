package events_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
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

const eventsDDL = `CREATE TABLE events (
	tenant_id LowCardinality(String), event_id String, type LowCardinality(String),
	user_id String, session_id String,
	occurred_at DateTime64(3, 'UTC'), received_at DateTime64(3, 'UTC'), properties JSON
) ENGINE = ReplacingMergeTree(received_at)
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (tenant_id, type, toDate(occurred_at), user_id, event_id)
SETTINGS non_replicated_deduplication_window = 1000`

// insertEvents writes events e<from>..e<to-1> of one month in one insert
// (one part), received at receivedAt.
func insertEvents(t *testing.T, db *store.DB, month string, from, to int, receivedAt string) {
	t.Helper()
	require.NoError(t, db.Exec(context.Background(), `
		INSERT INTO events
		SELECT 'acme', concat('e', toString(number)), 'lesson.completed', 'u1', 's1',
		       toDateTime64(? || '-05 10:00:00', 3, 'UTC') + number,
		       toDateTime64(?, 3, 'UTC'), '{}'
		FROM numbers(?, ?)`, month, receivedAt, from, to-from))
}

// activeParts returns partition id → number of active parts of events.
func activeParts(t *testing.T, db *store.DB) map[string]int64 {
	t.Helper()
	return tableParts(t, db, "events")
}

func count(t *testing.T, db *store.DB, sql string) int64 {
	t.Helper()
	var n int64
	require.NoError(t, db.QueryRow(context.Background(), []any{&n}, sql))
	return n
}

func TestCompactor(t *testing.T) {
	ctx := context.Background()
	db := storetest.Embedded(t)
	require.NoError(t, db.Exec(ctx, eventsDDL))

	// March 2024 is closed; May 2024 is the current month. Each month gets
	// two inserts that overlap on e5..e9 (redelivered duplicates).
	for _, month := range []string{"2024-03", "2024-05"} {
		insertEvents(t, db, month, 0, 10, "2024-05-15 00:00:00")
		insertEvents(t, db, month, 5, 15, "2024-05-15 00:00:01")
	}
	before := activeParts(t, db)
	require.Equal(t, int64(2), before["202403"], "precondition: two parts in the closed month")
	require.Equal(t, int64(20), count(t, db, "SELECT count() FROM events WHERE toYYYYMM(occurred_at) = 202403"),
		"precondition: duplicates are visible without FINAL")

	var logs bytes.Buffer
	h := events.NewCompactor(db, events.CompactConfig{
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		Now:    func() time.Time { return time.Date(2024, 5, 20, 3, 30, 0, 0, time.UTC) },
	})
	require.NoError(t, h.ProcessJob(ctx, jobs.Job{Kind: events.KindCompact}))

	after := activeParts(t, db)
	assert.Equal(t, int64(1), after["202403"], "the closed month is one part")
	assert.Equal(t, int64(15), count(t, db, "SELECT count() FROM events WHERE toYYYYMM(occurred_at) = 202403"),
		"without FINAL the closed month has no duplicates left")
	assert.Equal(t, int64(15), count(t, db, "SELECT uniqExact(event_id) FROM events WHERE toYYYYMM(occurred_at) = 202403"))
	assert.Contains(t, logs.String(), "partition_id=202403")
	assert.NotContains(t, logs.String(), "partition_id=202405", "the current month is left to background merges")

	// Idempotent: a second run finds nothing to do.
	logs.Reset()
	require.NoError(t, h.ProcessJob(ctx, jobs.Job{Kind: events.KindCompact}))
	assert.Equal(t, int64(1), activeParts(t, db)["202403"])
	assert.False(t, strings.Contains(logs.String(), "compacted"), logs.String())
}

// TestCompactEventsEndToEnd runs the job the way production does: the
// scheduler enqueues it, a worker runs it against ClickHouse.
func TestCompactorEndToEnd(t *testing.T) {
	ctx := context.Background()
	db := storetest.Embedded(t)
	require.NoError(t, db.Exec(ctx, eventsDDL))
	insertEvents(t, db, "2024-03", 0, 10, "2024-05-15 00:00:00")
	insertEvents(t, db, "2024-03", 5, 15, "2024-05-15 00:00:01")
	require.Equal(t, int64(2), activeParts(t, db)["202403"], "precondition: two parts")

	rc := redis.NewClient(&redis.Options{Addr: kvtest.StartRedis(t)})
	t.Cleanup(func() { _ = rc.Close() })
	quiet := slog.New(slog.DiscardHandler)
	compact := events.NewCompactor(db, events.CompactConfig{Logger: quiet})
	srv, err := queue.NewServer(rc, queue.Config{Logger: quiet})
	require.NoError(t, err)
	sched := queue.NewScheduler(queue.NewClient(rc, queue.ClientConfig{}), queue.SchedulerConfig{Logger: quiet})
	for _, r := range compact.Jobs() {
		srv.Handle(r.Kind, r.Handler)
		require.NoError(t, sched.Register(*r.Schedule))
	}
	require.NoError(t, srv.Start(ctx))
	t.Cleanup(srv.Shutdown)

	r, err := sched.Trigger(ctx, events.KindCompact, time.Now())
	require.NoError(t, err)
	insp := asynq.NewInspectorFromRedisClient(rc)
	require.Eventually(t, func() bool {
		info, err := insp.GetTaskInfo(jobs.QueueLow, r.ID)
		require.NoError(t, err)
		return info.State == asynq.TaskStateCompleted
	}, 15*time.Second, 25*time.Millisecond, "the compaction task completes (Asynq polls empty queues once a second)")
	assert.Equal(t, int64(1), activeParts(t, db)["202403"])
	assert.Equal(t, int64(15), count(t, db, "SELECT count() FROM events"))
}
