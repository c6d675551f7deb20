package reports_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/jobs"
	"github.com/learnhub/analytics-service/platform/queue"
	"github.com/learnhub/analytics-service/reports"
)

// TestAsynqRoundTrip runs a report through a real queue.Client and
// queue.Server on redis-server: the tick (triggered as the scheduler would
// fire it) enqueues the due slot, the worker renders it and delivers it to
// a webhook, and the run history shows both.
func TestAsynqRoundTrip(t *testing.T) {
	h := newHarness(t)
	client := queue.NewClient(h.rc, queue.ClientConfig{})
	svc, err := reports.NewService(reports.Deps{DB: h.db, Blobs: h.blobs, Jobs: client, Bus: h.bus, Dashboards: h.dash},
		reports.Config{Now: h.clock.Now, AllowPrivateWebhooks: true})
	require.NoError(t, err)
	hook, hookURL := startWebhook(t)
	ctx := as("acme")
	in := dashboardReport(reports.FormatXLSX, reports.Delivery{Kind: reports.DeliveryWebhook, URL: hookURL, Secret: hookSecret})
	in.Schedule = reports.Schedule{Cron: "*/15 * * * *", Timezone: "Australia/Sydney"}
	rep, err := svc.Create(ctx, in)
	require.NoError(t, err)

	srv, err := queue.NewServer(h.rc, queue.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), ShutdownTimeout: 5 * time.Second})
	require.NoError(t, err)
	srv.Handle(reports.KindTick, svc.Tick(nil))
	srv.Handle(reports.KindRun, svc.Runner())
	srv.Handle(reports.KindDeliver, svc.Deliverer())
	srv.AddRecoverer(svc.Recoverer())
	require.NoError(t, srv.Start(context.Background()))
	t.Cleanup(srv.Shutdown)
	sched := queue.NewScheduler(client, queue.SchedulerConfig{Now: h.clock.Now})
	require.NoError(t, sched.Register(reports.Entry()))

	h.clock.Set(time.Date(2026, 2, 1, 5, 16, 0, 0, time.UTC))
	_, err = sched.Trigger(context.Background(), reports.KindTick, h.clock.Now())
	require.NoError(t, err)
	var run *reports.Run
	require.Eventually(t, func() bool {
		page, err := svc.Runs(ctx, rep.ID, 10, "")
		if err != nil || len(page.Runs) != 1 {
			return false
		}
		run = page.Runs[0]
		return run.Status == reports.RunSucceeded && len(run.Deliveries) == 1 && run.Deliveries[0].Status == reports.DeliverySucceeded
	}, waitFor, 50*time.Millisecond, "the worker runs and delivers the slot")
	assert.Equal(t, time.Date(2026, 2, 1, 5, 15, 0, 0, time.UTC), run.ScheduledFor, "the latest slot")
	assert.Equal(t, "PK", string(h.object(t, run.ObjectKey)[:2]))
	assert.Equal(t, uint64(1), h.msgs(t, reports.SubjectGenerated))
	hook.mu.Lock()
	assert.Len(t, hook.bodies, 1)
	hook.mu.Unlock()

	// the slot's run task enqueued again is a duplicate TaskID in Asynq
	runs, err := reports.NewService(reports.Deps{DB: h.db, Blobs: h.blobs, Jobs: h.q, Bus: h.bus, Dashboards: h.dash},
		reports.Config{Now: h.clock.Now})
	require.NoError(t, err)
	h.clock.Set(time.Date(2026, 2, 1, 5, 29, 0, 0, time.UTC))
	require.NoError(t, runs.Tick(nil).ProcessJob(context.Background(), jobs.Job{Kind: reports.KindTick}))
	assert.Empty(t, h.q.Take(reports.KindRun), "the slot has a stored run: the tick skips it")
	rcpt, err := client.Enqueue(context.Background(), jobs.Task{Kind: reports.KindRun, Tenant: "acme", Queue: jobs.QueueDefault,
		MaxRetry: reports.DefaultRunMaxRetry, Timeout: reports.DefaultRunTimeout,
		Params: struct {
			ReportID     string          `json:"report_id"`
			RunID        string          `json:"run_id"`
			Trigger      reports.Trigger `json:"trigger"`
			ScheduledFor time.Time       `json:"scheduled_for"`
		}{rep.ID, run.ID, reports.TriggerScheduled, run.ScheduledFor.UTC()}})
	require.NoError(t, err)
	assert.True(t, rcpt.Duplicate, "Asynq keeps the completed task: the same slot is not enqueued again")
}
