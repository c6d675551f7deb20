package metricstest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/metrics"
)

// AssertSameResult checks two answers to the same question (raw and rollup
// paths, batched and alone) series by series and bucket by bucket, with
// comparisons and deltas; values may differ by float rounding only.
func AssertSameResult(t *testing.T, want, got *metrics.Result) {
	t.Helper()
	require.Len(t, got.Series, len(want.Series), want.Metric.Key)
	for i := range want.Series {
		assert.Equal(t, want.Series[i].Values, got.Series[i].Values, want.Metric.Key)
		require.Len(t, got.Series[i].Points, len(want.Series[i].Points))
		for j := range want.Series[i].Points {
			w, g := want.Series[i].Points[j], got.Series[i].Points[j]
			assert.Equal(t, w.Bucket, g.Bucket)
			AssertNum(t, w.Value, g.Value, want.Metric.Key)
			AssertNum(t, w.CompareValue, g.CompareValue, want.Metric.Key)
			AssertNum(t, w.Delta, g.Delta, want.Metric.Key)
		}
		AssertNum(t, want.Series[i].Total.Value, got.Series[i].Total.Value, want.Metric.Key)
	}
	AssertNum(t, want.Totals.Value, got.Totals.Value, want.Metric.Key)
}

// AssertNum checks two optional numbers: both absent, or equal up to float
// rounding.
func AssertNum(t *testing.T, want, got *float64, msg string) {
	t.Helper()
	if want == nil || got == nil {
		assert.Equal(t, want == nil, got == nil, msg)
		return
	}
	assert.InDelta(t, *want, *got, 1e-9, msg)
}
