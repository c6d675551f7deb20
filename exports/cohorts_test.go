package exports_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/cohorts"
	"github.com/learnhub/analytics-service/exports"
	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/metrics/metricstest"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
)

// withCohorts gives the Service the cohort checker the composition root
// gives it: the cohorts service on the harness database.
func withCohorts(c **cohorts.Service) harnessOption {
	return func(db *store.DB, d *exports.Deps, _ *exports.Config) {
		*c = cohorts.NewService(db, nil, cohorts.Config{})
		d.Cohorts = *c
	}
}

// TestMetricExportWithCohortBreakdown exports a metric split by a static
// cohort as CSV: the file has the cohort column with both values and the
// querier's (metricQuery's) values; another tenant cannot name the cohort.
func TestMetricExportWithCohortBreakdown(t *testing.T) {
	var q *metrics.Querier
	var cs *cohorts.Service
	h := newHarness(t, withMetrics(&q), withCohorts(&cs))
	metricstest.SeedJanuary(t, h.db, "a", 600, 1)
	metricstest.SeedJanuary(t, h.db, "b", 900, 2)
	ctxA, ctxB := tenantCtx("a"), tenantCtx("b")
	c, err := cs.Create(ctxA, cohorts.Cohort{Name: "First ten", Static: []string{"u0", "u1", "u2", "u3", "u4", "u5", "u6", "u7", "u8", "u9"}})
	require.NoError(t, err)
	_, err = cs.Evaluate(ctxA, c.ID, time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC))
	require.NoError(t, err)

	req := metrics.Request{MetricKey: "enrolments", TimeRange: january, Grain: "WEEK", CohortBreakdown: c.ID}
	_, recs, want := h.exportMetricCSV(t, ctxA, q, req)
	assert.Equal(t, []string{"cohort", "bucket", "value"}, recs[0])
	require.Len(t, want.Series, 2, "in and not in the cohort")
	assert.Equal(t, csvRows(want), recs[1:])
	seen := map[string]float64{}
	for _, r := range recs[1:] {
		f, err := strconv.ParseFloat(r[2], 64)
		require.NoError(t, err)
		seen[r[0]] += f
	}
	assert.Positive(t, seen[metrics.InCohort], "the cohort's users enrolled")
	assert.Positive(t, seen[metrics.NotInCohort], "so did the others")
	require.NotNil(t, want.Totals.Value)
	assert.Equal(t, *want.Totals.Value, seen[metrics.InCohort]+seen[metrics.NotInCohort], "the two series add up to the total")

	n := len(h.q.Tasks())
	for field, spec := range map[string]metrics.Request{
		"metricCohortBreakdown": {MetricKey: "enrolments", TimeRange: january, CohortBreakdown: c.ID},
		"metricCohorts[0].id":   {MetricKey: "enrolments", TimeRange: january, Cohorts: []metrics.CohortFilter{{CohortID: c.ID}}},
	} {
		_, err = h.svc.Request(ctxB, exports.Spec{Metric: &spec, Format: exports.FormatCSV})
		require.True(t, errs.Is(err, errs.KindNotFound), "tenant b cannot name tenant a's cohort: %v", err)
		assert.Equal(t, field, errs.PublicFields(err)["field"])
	}
	_, err = h.svc.Request(ctxA, exports.Spec{Metric: &metrics.Request{MetricKey: "enrolments", TimeRange: january,
		Cohorts: []metrics.CohortFilter{{CohortID: c.ID}, {CohortID: c.ID, Exclude: true}}}, Format: exports.FormatCSV})
	require.True(t, errs.Is(err, errs.KindInvalid), "a repeated cohort is bad input: %v", err)
	assert.Equal(t, "metricCohorts[1].id", errs.PublicFields(err)["field"])
	assert.Len(t, h.q.Tasks(), n, "nothing refused was enqueued")
}
