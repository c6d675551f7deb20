package exports_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/exports"
	"github.com/learnhub/analytics-service/jobs"
	"github.com/learnhub/analytics-service/platform/kv/kvtest"
	"github.com/learnhub/analytics-service/platform/queue"
	"github.com/learnhub/analytics-service/store"
)

// TestAsynqRoundTrip requests an export through a real queue.Client on
// redis-server and lets a queue.Server with the runner registered process it.
func TestAsynqRoundTrip(t *testing.T) {
	rc := redis.NewClient(&redis.Options{Addr: kvtest.StartRedis(t)})
	t.Cleanup(func() { _ = rc.Close() })
	h := newHarness(t, func(_ *store.DB, d *exports.Deps, _ *exports.Config) {
		d.Jobs = queue.NewClient(rc, queue.ClientConfig{})
	})
	srv, err := queue.NewServer(rc, queue.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), ShutdownTimeout: 5 * time.Second})
	require.NoError(t, err)
	srv.Handle(exports.KindRun, h.svc.Runner())
	srv.AddRecoverer(h.svc.Recoverer())
	require.NoError(t, srv.Start(context.Background()))
	t.Cleanup(srv.Shutdown)

	ctxA := tenantCtx("a")
	j, err := h.svc.Request(ctxA, eventsSpec(exports.FormatParquet))
	require.NoError(t, err)
	var got *exports.Job
	require.Eventually(t, func() bool {
		got, err = h.svc.Get(ctxA, j.ID)
		return err == nil && !got.Status.Active()
	}, waitFor, 25*time.Millisecond, "the worker finishes the export")
	require.Equal(t, exports.StatusSucceeded, got.Status, "error: %s", got.Error)
	assert.Equal(t, uint64(3), got.Rows)
	assert.Equal(t, uint64(len(h.readObject(t, got))), got.Bytes)
	assert.Equal(t, "PAR1", string(h.readObject(t, got)[:4]))
	assert.Equal(t, uint64(1), h.msgs(t, exports.SubjectCompleted))

	// the same task enqueued again (a recoverer, a retried request) is a
	// duplicate within the retention: nothing runs twice
	id, _, err := jobs.TaskID(jobs.Task{Kind: exports.KindRun, Tenant: "a", Params: map[string]string{"job_id": j.ID}})
	require.NoError(t, err)
	rcpt, err := queue.NewClient(rc, queue.ClientConfig{}).Enqueue(context.Background(),
		jobs.Task{Kind: exports.KindRun, Tenant: "a", Params: map[string]string{"job_id": j.ID}})
	require.NoError(t, err)
	assert.Equal(t, id, rcpt.ID)
	assert.True(t, rcpt.Duplicate)
}
