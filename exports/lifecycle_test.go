package exports_test

import (
	"context"
	"encoding/json"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/exports"
	"github.com/learnhub/analytics-service/jobs"
	"github.com/learnhub/analytics-service/platform/blob"
	"github.com/learnhub/analytics-service/platform/bus"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
)

// waitFor bounds every poll of these tests.
const waitFor = 15 * time.Second

// failingPuts is a blob.Store whose Put always fails as the store being
// down (the fault-injecting wrapper of the failure tests).
type failingPuts struct{ blob.Store }

func (failingPuts) Put(context.Context, string, io.Reader) error {
	return errs.E("blob.Put", errs.KindUnavailable, "the object store is down")
}

// gatedPuts is a blob.Store whose Put waits for release before it reads
// the object: the run stays RUNNING with its progress stored until then.
type gatedPuts struct {
	blob.Store
	entered chan struct{}
	release chan struct{}
	once    sync.Once
}

func newGatedPuts(s blob.Store) *gatedPuts {
	return &gatedPuts{Store: s, entered: make(chan struct{}), release: make(chan struct{})}
}

func (g *gatedPuts) Put(ctx context.Context, key string, r io.Reader) error {
	g.once.Do(func() { close(g.entered) })
	select {
	case <-g.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	return g.Store.Put(ctx, key, r)
}

// runTask runs the last enqueued task as attempt retried of maxRetry.
func (h *harness) runTask(t *testing.T, retried, maxRetry int) error {
	t.Helper()
	task := h.q.Last()
	id, params, err := jobs.TaskID(task)
	require.NoError(t, err)
	return h.svc.Runner().ProcessJob(context.Background(), jobs.Job{
		ID: id, Kind: task.Kind, Tenant: task.Tenant, Params: params, Retried: retried, MaxRetry: maxRetry})
}

// lastFailed is the last analytics.export.failed.v1 payload.
func (h *harness) lastFailed(t *testing.T) exports.Failed {
	t.Helper()
	s, err := h.bus.JetStream().Stream(context.Background(), bus.DefaultStream)
	require.NoError(t, err)
	raw, err := s.GetLastMsgForSubject(context.Background(), exports.SubjectFailed)
	require.NoError(t, err)
	var ev exports.Failed
	require.NoError(t, json.Unmarshal(raw.Data, &ev))
	return ev
}

func TestFailedRun(t *testing.T) {
	t.Run("retried until the last attempt, then FAILED once", func(t *testing.T) {
		h := newHarness(t, func(_ *store.DB, d *exports.Deps, _ *exports.Config) { d.Blobs = failingPuts{d.Blobs} })
		ctxA := tenantCtx("a")
		j, err := h.svc.Request(ctxA, eventsSpec(exports.FormatCSV))
		require.NoError(t, err)

		err = h.runTask(t, 0, 2)
		require.Error(t, err)
		assert.True(t, errs.Is(err, errs.KindUnavailable), "the cause goes back to Asynq for a retry: %v", err)
		got, err := h.svc.Get(ctxA, j.ID)
		require.NoError(t, err)
		assert.Equal(t, exports.StatusRunning, got.Status, "not final before the last attempt")
		assert.Zero(t, h.msgs(t, exports.SubjectFailed))

		require.Error(t, h.runTask(t, 2, 2))
		got, err = h.svc.Get(ctxA, j.ID)
		require.NoError(t, err)
		assert.Equal(t, exports.StatusFailed, got.Status)
		assert.Equal(t, "the object store is down", got.Error)
		require.NotNil(t, got.FinishedAt)

		// a redelivered task re-announces, deduplicated by Nats-Msg-Id
		require.NoError(t, h.runTask(t, 3, 2))
		assert.Equal(t, uint64(1), h.msgs(t, exports.SubjectFailed))
		assert.Zero(t, h.msgs(t, exports.SubjectCompleted))
		ev := h.lastFailed(t)
		assert.Equal(t, exports.Failed{
			Tenant: "a", ExportID: j.ID, Format: exports.FormatCSV, Source: string(exports.SourceEvents),
			Error: "the object store is down", RequestedBy: "u-a", FailedAt: *got.FinishedAt,
		}, ev)
		objs, err := h.blobs.List(context.Background(), "tenants/")
		require.NoError(t, err)
		assert.Empty(t, objs)
	})
	t.Run("too many rows is FAILED at once", func(t *testing.T) {
		h := newHarness(t, func(_ *store.DB, _ *exports.Deps, c *exports.Config) { c.MaxRows = 2 })
		ctxA := tenantCtx("a")
		j, err := h.svc.Request(ctxA, eventsSpec(exports.FormatNDJSON))
		require.NoError(t, err)
		err = h.runTask(t, 0, 3)
		assert.True(t, errs.Is(err, errs.KindInvalid), "bad input is not retried: %v", err)
		got, err := h.svc.Get(ctxA, j.ID)
		require.NoError(t, err)
		assert.Equal(t, exports.StatusFailed, got.Status)
		assert.Contains(t, got.Error, "more rows than allowed")
		assert.Equal(t, uint64(1), h.msgs(t, exports.SubjectFailed))
		assert.Equal(t, got.Error, h.lastFailed(t).Error)
	})
}

func TestWatchAndProgress(t *testing.T) {
	var gate *gatedPuts
	h := newHarness(t, func(_ *store.DB, d *exports.Deps, c *exports.Config) {
		gate = newGatedPuts(d.Blobs)
		d.Blobs = gate
		c.WatchInterval = 5 * time.Millisecond
	})
	ctxA := tenantCtx("a")
	ctx, cancel := context.WithTimeout(ctxA, waitFor)
	defer cancel()
	j, err := h.svc.Request(ctxA, eventsSpec(exports.FormatCSV))
	require.NoError(t, err)
	updates, err := h.svc.Watch(ctx, j.ID)
	require.NoError(t, err)
	next := func() exports.Job {
		t.Helper()
		select {
		case u, ok := <-updates:
			require.True(t, ok, "the watch ended early")
			return u
		case <-ctx.Done():
			t.Fatal("no update before the deadline")
		}
		return exports.Job{}
	}
	assert.Equal(t, exports.StatusQueued, next().Status)

	done := make(chan error, 1)
	go func() { done <- h.runTask(t, 0, 3) }()
	select {
	case <-gate.entered:
	case <-ctx.Done():
		t.Fatal("the run never reached the upload")
	}

	// mid-run: the encoder has stored progress every 2 rows and waits on
	// the upload
	running := next()
	for running.Rows < 2 {
		require.Equal(t, exports.StatusRunning, running.Status)
		running = next()
	}
	assert.Equal(t, exports.StatusRunning, running.Status)
	assert.Equal(t, uint64(2), running.Rows, "progress stored mid-run")
	require.NotNil(t, running.StartedAt)
	stored, err := h.svc.Get(ctxA, j.ID)
	require.NoError(t, err)
	assert.Equal(t, exports.StatusRunning, stored.Status)
	assert.Equal(t, uint64(2), stored.Rows)

	close(gate.release)
	last := next()
	for last.Status == exports.StatusRunning {
		last = next()
	}
	assert.Equal(t, exports.StatusSucceeded, last.Status)
	assert.Equal(t, uint64(3), last.Rows)
	assert.Positive(t, last.Bytes)
	select {
	case _, ok := <-updates:
		assert.False(t, ok, "the watch closes after a final status")
	case <-ctx.Done():
		t.Fatal("the watch did not close")
	}
	require.NoError(t, <-done)
}

func TestWatchUnknownJob(t *testing.T) {
	h := newHarness(t)
	j, err := h.svc.Request(tenantCtx("a"), eventsSpec(exports.FormatCSV))
	require.NoError(t, err)
	_, err = h.svc.Watch(tenantCtx("b"), j.ID)
	assert.True(t, errs.Is(err, errs.KindNotFound), "another tenant's job is not found: %v", err)
}
