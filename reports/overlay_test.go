package reports_test

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/dashboards"
	"github.com/learnhub/analytics-service/demo"
	"github.com/learnhub/analytics-service/demo/demotest"
	"github.com/learnhub/analytics-service/reports"
	"github.com/learnhub/analytics-service/timerange"
)

// TestReportDrawsForecastBandAndAnomalies runs a PDF report over the demo
// data of a dashboard whose LINE widget of daily completions asks for a
// forecast and anomaly markers: the legend names the band and the
// markers, and the caption lists the anomalous days, the start of the
// planted November drop among them (REPORT_PDF_OUT=file.pdf keeps the PDF
// to look at with pdftoppm -png).
func TestReportDrawsForecastBandAndAnomalies(t *testing.T) {
	h := newHarness(t)
	end := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	demotest.Seed(t, h.db, demo.Options{Learners: 2000, Days: 180, End: end})
	require.Equal(t, time.Date(2025, 11, 1, 0, 0, 0, 0, time.UTC), demo.AnomalyMonth(demo.Options{End: end}))
	ctx := as("demo")
	_, err := h.dash.Create(ctx, dashboards.Input{Slug: "watched", Title: "Watched completions"}, []dashboards.WidgetInput{{
		Title: "Course completions per day", Kind: dashboards.KindLine, MetricKeys: []string{"course_completions"}, Grain: "DAY",
		Overlay: &dashboards.Overlay{Forecast: &dashboards.ForecastOverlay{Horizon: 21, Model: "ets", History: 120},
			Anomalies: &dashboards.AnomalyOverlay{Sensitivity: "HIGH"}},
	}})
	require.NoError(t, err)
	from := time.Date(2025, 10, 1, 0, 0, 0, 0, time.UTC)
	in := reports.Input{Name: "Watched completions", Format: reports.FormatPDF, Enabled: true,
		Source:   reports.Source{Dashboard: "watched", TimeRange: timerange.Spec{From: &from, To: &end}},
		Schedule: reports.Schedule{Cron: "0 6 * * 1", Timezone: "UTC"}}
	pdf := h.object(t, h.runNow(t, ctx, in).ObjectKey)
	if out := os.Getenv("REPORT_PDF_OUT"); out != "" {
		require.NoError(t, os.WriteFile(out, pdf, 0o644))
	}
	text := pdfText(t, pdf)
	for _, want := range []string{"Course completions per day", "Forecast (95% band)", "Anomaly", "forecast with its 95% interval"} {
		assert.Contains(t, text, want)
	}
	assert.Regexp(t, `\d+ anomalous buckets?: [^\n]*3 Nov`, text, "the planted drop's first day is listed under the chart")
	assert.NotContains(t, text, "overlay:", "no overlay error")
}
