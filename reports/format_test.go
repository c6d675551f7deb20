package reports_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/reports"
)

// TestNumberFormat pins how report numbers read in each display format of
// the metric catalog, on tiles and tables (Format) and chart axes (Tick).
func TestNumberFormat(t *testing.T) {
	for _, c := range []struct {
		format reports.NumberFormat
		v      float64
		want   string
		tick   string
	}{
		{"0.0%", 0.625, "62.5%", "62.5%"},
		{"0.0%", 1, "100.0%", "100%"},
		{"0.0%", 0.30000000000000004, "30.0%", "30%"},
		{"0%", 0.4449, "44%", "44.49%"},
		{"#,##0", 1234567, "1,234,567", "1,234,567"},
		{"#,##0", 1499.6, "1,500", "1,499.6"},
		{"#,##0", -1234, "-1,234", "-1,234"},
		{"0.0", 72.45, "72.5", "72.45"},
		{"0.0", -0.01, "0.0", "-0.01"},
		{"#,##0.00", 12345.678, "12,345.68", "12,345.678"},
		{"", 12345, "12,345", "12,345"},
		{"", 78.253, "78.25", "78.253"},
	} {
		t.Run(string(c.format)+"/"+c.want, func(t *testing.T) {
			assert.Equal(t, c.want, c.format.Format(&c.v))
			assert.Equal(t, c.tick, c.format.Tick(c.v))
		})
	}
	assert.Equal(t, "–", reports.NumberFormat("0.0%").Format(nil))
}

// TestMetricFormat: a metric's Format wins; a ratio without one is a
// percentage; a format this package cannot print falls back.
func TestMetricFormat(t *testing.T) {
	for _, c := range []struct {
		def  *metrics.Definition
		want reports.NumberFormat
	}{
		{&metrics.Definition{Input: metrics.Input{Format: "0.0%", Unit: "ratio"}}, "0.0%"},
		{&metrics.Definition{Input: metrics.Input{Format: "#,##0", Unit: "learners"}}, "#,##0"},
		{&metrics.Definition{Input: metrics.Input{Unit: "ratio"}}, "0.0%"},
		{&metrics.Definition{Input: metrics.Input{Format: `0.0 "pts"`, Unit: "points"}}, ""},
		{&metrics.Definition{Input: metrics.Input{Unit: "minutes"}}, ""},
		{nil, ""},
	} {
		assert.Equal(t, c.want, reports.MetricFormat(c.def), "%+v", c.def)
	}
}
