package alerts_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/alerts"
	"github.com/learnhub/analytics-service/jobs"
	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/platform/kv/kvtest"
	"github.com/learnhub/analytics-service/platform/queue"
	"github.com/learnhub/analytics-service/reports"
)

// TestAsynqRoundTrip runs the alert jobs on a real queue.Client and
// queue.Server over redis-server: the scheduler's tick evaluates the rule,
// the worker sends its notifications, and a tick fired again (another
// replica, a later minute) and the same notification enqueued again send
// nothing twice.
func TestAsynqRoundTrip(t *testing.T) {
	h := newHarness(t)
	rc := redis.NewClient(&redis.Options{Addr: kvtest.StartRedis(t)})
	t.Cleanup(func() { _ = rc.Close() })
	client := queue.NewClient(rc, queue.ClientConfig{})
	reg := metrics.NewRegistry(h.db, metrics.Config{Now: h.clock.Now})
	svc, err := alerts.NewService(alerts.Deps{DB: h.db, Jobs: client, Bus: h.bus,
		Metrics:  metrics.NewQuerier(h.db, reg, metrics.QuerierConfig{Now: h.clock.Now}),
		Mailer:   &reports.SMTPMailer{Addr: h.smtpAddr, From: "alerts@analytics.test"},
		Webhooks: &reports.Webhooks{AllowPrivate: true}}, alerts.Config{Now: h.clock.Now})
	require.NoError(t, err)
	in := thresholdRule(-1)
	in.Channels = []alerts.Channel{{Kind: alerts.ChannelEmail, To: []string{"ops@acme.test"}},
		{Kind: alerts.ChannelWebhook, URL: h.hook.srv.URL + "/ops", Secret: "ops-secret-0123456789"}}
	_, err = svc.Create(as("acme"), in)
	require.NoError(t, err)

	srv, err := queue.NewServer(rc, queue.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), ShutdownTimeout: 5 * time.Second})
	require.NoError(t, err)
	sched := queue.NewScheduler(client, queue.SchedulerConfig{Now: h.clock.Now})
	for _, r := range svc.Jobs() {
		srv.Handle(r.Kind, r.Handler)
		if r.Schedule != nil {
			require.NoError(t, sched.Register(*r.Schedule))
		}
	}
	require.NoError(t, srv.Start(context.Background()))
	t.Cleanup(srv.Shutdown)

	_, err = sched.Trigger(context.Background(), alerts.KindTick, h.clock.Now())
	require.NoError(t, err)
	require.Eventually(t, func() bool { return len(h.mail.received()) == 1 && len(h.hook.received()) == 1 },
		waitFor, 50*time.Millisecond, "the tick evaluates the rule and the worker notifies both channels")
	assert.Equal(t, uint64(1), h.msgs(t, alerts.SubjectTriggered))

	// A later tick in the same bucket, and the first notification enqueued
	// again: nothing new.
	h.clock.Set(h.clock.Now().Add(5 * time.Minute))
	_, err = sched.Trigger(context.Background(), alerts.KindTick, h.clock.Now())
	require.NoError(t, err)
	rcpt, err := client.Enqueue(context.Background(), jobs.Task{Kind: alerts.KindTick, Queue: jobs.QueueDefault, MaxRetry: 3,
		Key: h.clock.Now().UTC().Format(jobs.DefaultKeyLayout)})
	require.NoError(t, err)
	assert.True(t, rcpt.Duplicate, "the tick of this minute exists: a second scheduler replica enqueues nothing")
	// The second tick has run once no task is pending or active; then
	// nothing was sent twice.
	require.Eventually(t, func() bool {
		n, err := rc.LLen(context.Background(), "asynq:{default}:pending").Result()
		m, err2 := rc.LLen(context.Background(), "asynq:{default}:active").Result()
		return err == nil && err2 == nil && n == 0 && m == 0
	}, waitFor, 50*time.Millisecond)
	assert.Len(t, h.mail.received(), 1)
	assert.Len(t, h.hook.received(), 1)
	assert.Equal(t, uint64(1), h.msgs(t, alerts.SubjectTriggered))
}
