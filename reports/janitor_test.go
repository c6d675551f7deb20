package reports_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/reports"
)

// TestJanitorExpiresOldFiles: files older than the retention (90 days by
// default) are deleted and their runs marked expired, without a download
// URL; younger files stay; a second pass changes nothing.
func TestJanitorExpiresOldFiles(t *testing.T) {
	h := newHarness(t)
	ctx := as("acme")
	rep, err := h.svc.Create(ctx, dashboardReport(reports.FormatCSVZip))
	require.NoError(t, err)
	runNow := func() *reports.Run {
		r, err := h.svc.RunNow(ctx, rep.ID)
		require.NoError(t, err)
		require.Equal(t, []error{nil}, h.runAll(t, reports.KindRun, h.svc.Runner(), 0, 3))
		return r
	}
	janitor := func(at time.Time) {
		h.clock.Set(at)
		require.NoError(t, h.process(t, h.svc.Janitor(), reports.JanitorEntry().Task, 0, 0))
	}
	stored := func() int {
		objs, err := h.blobs.List(context.Background(), "tenants/acme/reports/")
		require.NoError(t, err)
		return len(objs)
	}
	start := h.clock.Now()
	old := runNow()
	h.clock.Set(start.Add(60 * 24 * time.Hour))
	young := runNow()
	require.Equal(t, 2, stored())

	janitor(start.Add(reports.DefaultRetention - time.Hour))
	assert.Equal(t, 2, stored(), "nothing is older than the retention yet")

	janitor(start.Add(reports.DefaultRetention + time.Hour))
	assert.Equal(t, 1, stored())
	page, err := h.svc.Runs(ctx, rep.ID, 10, "")
	require.NoError(t, err)
	require.Len(t, page.Runs, 2)
	for _, r := range page.Runs {
		assert.Equal(t, reports.RunSucceeded, r.Status, "the history keeps the run")
		_, _, urlErr := h.svc.URL(ctx, r)
		switch r.ID {
		case old.ID:
			require.NotNil(t, r.ExpiredAt)
			assert.Equal(t, start.Add(reports.DefaultRetention+time.Hour), *r.ExpiredAt)
			assert.True(t, errs.Is(urlErr, errs.KindConflict), "no URL for a deleted file: %v", urlErr)
			_, err := h.blobs.Open(context.Background(), r.ObjectKey)
			assert.Error(t, err)
		case young.ID:
			assert.Nil(t, r.ExpiredAt)
			assert.NoError(t, urlErr)
		}
	}

	janitor(start.Add(reports.DefaultRetention + 2*time.Hour))
	page, err = h.svc.Runs(ctx, rep.ID, 10, "")
	require.NoError(t, err)
	for _, r := range page.Runs {
		if r.ID == old.ID {
			assert.Equal(t, start.Add(reports.DefaultRetention+time.Hour), *r.ExpiredAt, "a second pass leaves it alone")
		}
	}
}
