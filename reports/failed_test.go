package reports_test

import (
	"context"
	"encoding/json"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/platform/blob"
	"github.com/learnhub/analytics-service/platform/bus"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/reports"
)

// brokenBlobs is a blob.Store whose writes always fail (a bucket gone).
type brokenBlobs struct{ blob.Store }

func (brokenBlobs) Put(context.Context, string, io.Reader) error {
	return errs.E("blob.Put", errs.KindUnavailable, "bucket is gone")
}

// TestFailedRunAnnounced: a run that fails its last attempt is FAILED in
// the history and announced once on analytics.report.failed.v1, however
// often the task is redelivered; earlier attempts announce nothing.
func TestFailedRunAnnounced(t *testing.T) {
	h := newHarness(t, func(d *reports.Deps, _ *reports.Config) { d.Blobs = brokenBlobs{d.Blobs} })
	ctx := as("acme")
	rep, task := h.manualRun(t, ctx, reports.FormatXLSX)

	require.Error(t, h.process(t, h.svc.Runner(), task, 0, 1))
	assert.Equal(t, reports.RunRunning, h.onlyRun(t, ctx, rep.ID).Status, "retried, not final")
	assert.Zero(t, h.msgs(t, reports.SubjectFailed))

	require.Error(t, h.process(t, h.svc.Runner(), task, 1, 1))
	run := h.onlyRun(t, ctx, rep.ID)
	assert.Equal(t, reports.RunFailed, run.Status)
	assert.Equal(t, "bucket is gone", run.Error)
	require.NoError(t, h.process(t, h.svc.Runner(), task, 1, 1), "a redelivered task of a failed run")
	assert.Equal(t, uint64(1), h.msgs(t, reports.SubjectFailed), "one event per run")
	assert.Zero(t, h.msgs(t, reports.SubjectGenerated))

	s, err := h.bus.JetStream().Stream(context.Background(), bus.DefaultStream)
	require.NoError(t, err)
	raw, err := s.GetLastMsgForSubject(context.Background(), reports.SubjectFailed)
	require.NoError(t, err)
	assert.Equal(t, "report.failed/"+run.ID, raw.Header.Get("Nats-Msg-Id"))
	var ev reports.Failed
	require.NoError(t, json.Unmarshal(raw.Data, &ev))
	assert.Equal(t, reports.Failed{RunRef: reports.RunRef{Tenant: "acme", ReportID: rep.ID, ReportName: rep.Name, RunID: run.ID,
		Trigger: reports.TriggerManual, ScheduledFor: run.ScheduledFor}, Error: "bucket is gone", FailedAt: *run.FinishedAt}, ev)
	assert.Contains(t, string(raw.Data), `"tenant_id":"acme"`, "the reference fields are top-level in the JSON")
}
