package queue_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/jobs"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/platform/kv/kvtest"
	"github.com/learnhub/analytics-service/platform/kv/rediskv"
	"github.com/learnhub/analytics-service/platform/queue"
	"github.com/learnhub/analytics-service/platform/reqid"
)

// waitFor is how long a test waits for a worker to pick up a task (Asynq
// polls empty queues once a second).
const waitFor = 15 * time.Second

type exportParams struct {
	ExportID string `json:"export_id"`
	Format   string `json:"format"`
}

func newRedis(t *testing.T) redis.UniversalClient {
	t.Helper()
	rc := redis.NewClient(&redis.Options{Addr: kvtest.StartRedis(t)})
	t.Cleanup(func() { _ = rc.Close() })
	return rc
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func startServer(t *testing.T, rc redis.UniversalClient, cfg queue.Config, setup func(*queue.Server)) *queue.Server {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = quietLogger()
	}
	srv, err := queue.NewServer(rc, cfg)
	require.NoError(t, err)
	setup(srv)
	require.NoError(t, srv.Start(context.Background()))
	t.Cleanup(srv.Shutdown)
	return srv
}

func taskState(t *testing.T, insp *asynq.Inspector, queue, id string) *asynq.TaskInfo {
	t.Helper()
	info, err := insp.GetTaskInfo(queue, id)
	require.NoError(t, err)
	return info
}

// eventually polls cond until it holds or waitFor passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	require.Eventually(t, cond, waitFor, 25*time.Millisecond, what)
}

func TestTaskID(t *testing.T) {
	base := jobs.Task{Kind: "exports:run", Tenant: "acme", Params: exportParams{ExportID: "e1", Format: "csv"}}
	id, params, err := jobs.TaskID(base)
	require.NoError(t, err)
	assert.JSONEq(t, `{"export_id":"e1","format":"csv"}`, string(params))
	assert.Regexp(t, `^exports:run:[0-9a-f]{32}$`, id)

	same := base
	same.Queue, same.MaxRetry, same.Timeout = jobs.QueueCritical, 3, time.Minute
	tests := []struct {
		name string
		task jobs.Task
		same bool
	}{
		{"options do not change the id", same, true},
		{"map key order does not change the id",
			jobs.Task{Kind: "exports:run", Tenant: "acme", Params: map[string]string{"format": "csv", "export_id": "e1"}}, true},
		{"other tenant", jobs.Task{Kind: "exports:run", Tenant: "globex", Params: base.Params}, false},
		{"other kind", jobs.Task{Kind: "exports:retry", Tenant: "acme", Params: base.Params}, false},
		{"other params", jobs.Task{Kind: "exports:run", Tenant: "acme", Params: exportParams{ExportID: "e2", Format: "csv"}}, false},
		{"a key", jobs.Task{Kind: "exports:run", Tenant: "acme", Params: base.Params, Key: "2026-05-01"}, false},
		{"fields do not run together", jobs.Task{Kind: "exports:runa", Tenant: "cme", Params: base.Params}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, _, err := jobs.TaskID(tc.task)
			require.NoError(t, err)
			if tc.same {
				assert.Equal(t, id, got)
			} else {
				assert.NotEqual(t, id, got)
			}
		})
	}

	_, _, err = jobs.TaskID(jobs.Task{Kind: "x", Params: make(chan int)})
	assert.Error(t, err)
}

func TestEnqueueTwiceRunsOnce(t *testing.T) {
	ctx := context.Background()
	rc := newRedis(t)
	client := queue.NewClient(rc, queue.ClientConfig{})
	insp := asynq.NewInspectorFromRedisClient(rc)

	task := jobs.Task{Kind: "exports:run", Tenant: "acme", Params: exportParams{ExportID: "e1", Format: "csv"}}
	first, err := client.Enqueue(ctx, task)
	require.NoError(t, err)
	assert.False(t, first.Duplicate)
	second, err := client.Enqueue(ctx, task)
	require.NoError(t, err, "a second enqueue of the same input is not an error")
	assert.True(t, second.Duplicate)
	assert.Equal(t, first.ID, second.ID)

	var (
		mu   sync.Mutex
		runs []jobs.Job
		rids []string
	)
	startServer(t, rc, queue.Config{}, func(s *queue.Server) {
		s.Handle("exports:run", jobs.HandlerFunc(func(ctx context.Context, j jobs.Job) error {
			mu.Lock()
			defer mu.Unlock()
			runs = append(runs, j)
			rids = append(rids, reqid.From(ctx))
			return nil
		}))
	})

	eventually(t, "the task completes", func() bool {
		return taskState(t, insp, jobs.QueueDefault, first.ID).State == asynq.TaskStateCompleted
	})
	// While the completed task is retained, the same input stays a no-op.
	third, err := client.Enqueue(ctx, task)
	require.NoError(t, err)
	assert.True(t, third.Duplicate)

	q, err := insp.GetQueueInfo(jobs.QueueDefault)
	require.NoError(t, err)
	assert.Equal(t, 1, q.Completed)
	assert.Equal(t, 0, q.Pending+q.Active+q.Retry+q.Scheduled)

	mu.Lock()
	defer mu.Unlock()
	require.Len(t, runs, 1, "enqueued three times, ran once")
	assert.Equal(t, first.ID, runs[0].ID)
	assert.Equal(t, "acme", runs[0].Tenant)
	var p exportParams
	require.NoError(t, runs[0].Decode(&p))
	assert.Equal(t, exportParams{ExportID: "e1", Format: "csv"}, p)
	assert.Equal(t, first.ID, rids[0], "the task id is the request id of the handler's context")
}

func TestFailuresStayVisible(t *testing.T) {
	ctx := context.Background()
	rc := newRedis(t)
	client := queue.NewClient(rc, queue.ClientConfig{})
	insp := asynq.NewInspectorFromRedisClient(rc)
	reg := prometheus.NewRegistry()

	startServer(t, rc, queue.Config{Registry: reg}, func(s *queue.Server) {
		s.Handle("reports:render", jobs.HandlerFunc(func(context.Context, jobs.Job) error {
			return errors.New("clickhouse: connection refused")
		}))
		s.Handle("cohorts:evaluate", jobs.HandlerFunc(func(_ context.Context, j jobs.Job) error {
			var p struct{ CohortID int }
			return j.Decode(&p) // params are a string: KindInvalid
		}))
	})

	tests := []struct {
		name      string
		task      jobs.Task
		wantState asynq.TaskState
		wantErr   string
	}{
		{"retried with its error", jobs.Task{Kind: "reports:render", Tenant: "acme", Params: "r1"},
			asynq.TaskStateRetry, "clickhouse: connection refused"},
		{"archived when retries are off", jobs.Task{Kind: "reports:render", Tenant: "acme", Params: "r2", MaxRetry: -1},
			asynq.TaskStateArchived, "clickhouse: connection refused"},
		{"bad input is archived at once", jobs.Task{Kind: "cohorts:evaluate", Tenant: "acme", Params: map[string]string{"CohortID": "x"}},
			asynq.TaskStateArchived, "do not decode"},
		{"unknown kind is archived at once", jobs.Task{Kind: "nobody:handles", Tenant: "acme"},
			asynq.TaskStateArchived, `no handler for job kind "nobody:handles"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := client.Enqueue(ctx, tc.task)
			require.NoError(t, err)
			var info *asynq.TaskInfo
			eventually(t, "the task fails", func() bool {
				info = taskState(t, insp, jobs.QueueDefault, r.ID)
				return info.State == tc.wantState
			})
			assert.Contains(t, info.LastErr, tc.wantErr)
			assert.False(t, info.LastFailedAt.IsZero())
		})
	}

	counts := failureCounts(t, reg)
	assert.Equal(t, 1.0, counts["reports:render/false"])
	assert.Equal(t, 1.0, counts["reports:render/true"])
	assert.Equal(t, 1.0, counts["cohorts:evaluate/true"])
	assert.Equal(t, 1.0, counts["nobody:handles/true"])

	t.Run("a second server registers the same counter", func(t *testing.T) {
		_, err := queue.NewServer(rc, queue.Config{Registry: reg, Logger: quietLogger()})
		require.NoError(t, err)
	})
}

// failureCounts reads the failure counter as "kind/final" → value.
func failureCounts(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != queue.FailureCounterName {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			out[labels["kind"]+"/"+labels["final"]] = m.GetCounter().GetValue()
		}
	}
	require.NotEmpty(t, out, "the failure counter is registered and counted")
	return out
}

func TestRecovererRunsBeforeFirstTask(t *testing.T) {
	ctx := context.Background()
	rc := newRedis(t)
	client := queue.NewClient(rc, queue.ClientConfig{})
	insp := asynq.NewInspectorFromRedisClient(rc)

	// Work left over from a previous worker is already waiting.
	waiting, err := client.Enqueue(ctx, jobs.Task{Kind: "exports:run", Tenant: "acme", Params: "left-over"})
	require.NoError(t, err)

	var (
		mu    sync.Mutex
		order []string
	)
	record := func(s string) {
		mu.Lock()
		defer mu.Unlock()
		order = append(order, s)
	}
	var resumed jobs.Receipt
	startServer(t, rc, queue.Config{}, func(s *queue.Server) {
		s.Handle("exports:run", jobs.HandlerFunc(func(_ context.Context, j jobs.Job) error {
			record("run " + string(j.Params))
			return nil
		}))
		s.AddRecoverer(jobs.RecovererFunc(func(ctx context.Context) error {
			record("recover")
			// What exports will do: re-enqueue a job whose row says RUNNING.
			var err error
			resumed, err = client.Enqueue(ctx, jobs.Task{Kind: "exports:run", Tenant: "acme", Params: "was-running"})
			return err
		}))
	})

	for _, id := range []func() string{func() string { return waiting.ID }, func() string { return resumed.ID }} {
		eventually(t, "both tasks complete", func() bool {
			return taskState(t, insp, jobs.QueueDefault, id()).State == asynq.TaskStateCompleted
		})
	}
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, order, 3)
	assert.Equal(t, "recover", order[0], "the recoverer runs before any task")
	assert.ElementsMatch(t, []string{`run "left-over"`, `run "was-running"`}, order[1:])
}

func TestFailingRecovererStopsStart(t *testing.T) {
	rc := newRedis(t)
	srv, err := queue.NewServer(rc, queue.Config{Logger: quietLogger()})
	require.NoError(t, err)
	srv.AddRecoverer(jobs.RecovererFunc(func(context.Context) error {
		return errs.E("exports.Recover", errs.KindUnavailable, "clickhouse is down")
	}))
	err = srv.Start(context.Background())
	require.Error(t, err)
	assert.True(t, errs.Is(err, errs.KindUnavailable), "the recoverer's kind is kept: %v", err)
	assert.Contains(t, err.Error(), "did not start")
	srv.Shutdown() // a server that never started shuts down quietly
}

func TestSchedulerOncePerPeriod(t *testing.T) {
	ctx := context.Background()
	rc := newRedis(t)
	client := queue.NewClient(rc, queue.ClientConfig{})
	// A daily entry, keyed by the date (as events.Compactor's).
	daily := jobs.Entry{Name: "housekeeping:daily", Spec: "30 3 * * *",
		Task: jobs.Task{Kind: "housekeeping:daily", Queue: jobs.QueueLow}, KeyLayout: "2006-01-02"}

	// Two worker replicas, each with its own scheduler.
	replicas := []*queue.Scheduler{
		queue.NewScheduler(client, queue.SchedulerConfig{Logger: quietLogger()}),
		queue.NewScheduler(client, queue.SchedulerConfig{Logger: quietLogger()}),
	}
	for _, s := range replicas {
		require.NoError(t, s.Register(daily))
	}
	morning := time.Date(2026, 5, 1, 3, 30, 0, 0, time.UTC)
	a, err := replicas[0].Trigger(ctx, daily.Name, morning)
	require.NoError(t, err)
	b, err := replicas[1].Trigger(ctx, daily.Name, morning.Add(40*time.Second))
	require.NoError(t, err)
	assert.False(t, a.Duplicate)
	assert.True(t, b.Duplicate, "the same day from another replica is a no-op")
	assert.Equal(t, a.ID, b.ID)

	next, err := replicas[0].Trigger(ctx, daily.Name, morning.AddDate(0, 0, 1))
	require.NoError(t, err)
	assert.False(t, next.Duplicate, "the next day is new work")

	insp := asynq.NewInspectorFromRedisClient(rc)
	info := taskState(t, insp, jobs.QueueLow, a.ID)
	assert.Equal(t, daily.Name, info.Type)

	t.Run("errors", func(t *testing.T) {
		err := replicas[0].Register(daily)
		assert.True(t, errs.Is(err, errs.KindConflict), "%v", err)
		err = replicas[0].Register(jobs.Entry{Name: "bad", Spec: "every day at 3", Task: jobs.Task{Kind: "x"}})
		assert.True(t, errs.Is(err, errs.KindInvalid), "%v", err)
		assert.Contains(t, errs.PublicMessage(err), `e.g. "30 3 * * *"`)
		_, err = replicas[0].Trigger(ctx, "nope", morning)
		assert.True(t, errs.Is(err, errs.KindNotFound), "%v", err)
	})
}

func TestSchedulerFiresOnItsSchedule(t *testing.T) {
	rc := newRedis(t)
	client := queue.NewClient(rc, queue.ClientConfig{})
	var (
		mu   sync.Mutex
		keys = map[string]bool{}
	)
	startServer(t, rc, queue.Config{}, func(s *queue.Server) {
		s.Handle("housekeeping:tick", jobs.HandlerFunc(func(_ context.Context, j jobs.Job) error {
			mu.Lock()
			defer mu.Unlock()
			keys[j.ID] = true
			return nil
		}))
	})
	s := queue.NewScheduler(client, queue.SchedulerConfig{Logger: quietLogger()})
	require.NoError(t, s.Register(jobs.Entry{
		Name: "tick", Spec: "@every 1s", Task: jobs.Task{Kind: "housekeeping:tick"},
		KeyLayout: "2006-01-02T15:04:05.000",
	}))
	s.Start()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	eventually(t, "two firings run as two tasks", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(keys) >= 2
	})
}

// TestRunsOnEmbeddedRedis checks the `make run` setup: Asynq on the
// in-process Redis (miniredis) enqueues, runs and dedups like on a server.
func TestRunsOnEmbeddedRedis(t *testing.T) {
	ctx := context.Background()
	k, err := rediskv.Open(ctx, rediskv.Config{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = k.Close() })
	rc := k.Client()

	ran := make(chan string, 4)
	startServer(t, rc, queue.Config{}, func(s *queue.Server) {
		s.Handle("insights:detect", jobs.HandlerFunc(func(_ context.Context, j jobs.Job) error {
			ran <- j.ID
			return nil
		}))
	})
	client := queue.NewClient(rc, queue.ClientConfig{})
	task := jobs.Task{Kind: "insights:detect", Tenant: "demo", Params: map[string]int{"day": 1}}
	first, err := client.Enqueue(ctx, task)
	require.NoError(t, err)
	again, err := client.Enqueue(ctx, task)
	require.NoError(t, err)
	assert.True(t, again.Duplicate)

	insp := asynq.NewInspectorFromRedisClient(rc)
	eventually(t, "the task completes on the embedded Redis", func() bool {
		return taskState(t, insp, jobs.QueueDefault, first.ID).State == asynq.TaskStateCompleted
	})
	require.Len(t, ran, 1)
	assert.Equal(t, first.ID, <-ran)
}
