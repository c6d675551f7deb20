package reports_test

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"github.com/learnhub/analytics-service/adhoc"
	"github.com/learnhub/analytics-service/dashboards"
	"github.com/learnhub/analytics-service/events"
	"github.com/learnhub/analytics-service/insights"
	"github.com/learnhub/analytics-service/jobs"
	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/reports"
)

// TestReportDrawsPinnedInsightCharts runs a report of a dashboard with two
// pinned insight charts (a daily line and bars per course): the PDF draws
// them with the caption naming the insight, its question, time and
// confidence, and its table holds the stored values; CSV and XLSX hold the
// rows of both.
func TestReportDrawsPinnedInsightCharts(t *testing.T) {
	base := newHarness(t)
	ctx := as("acme")
	querier := metrics.NewQuerier(base.db, base.reg, metrics.QuerierConfig{Now: base.clock.Now})
	ins := insights.NewService(base.db, &insights.Tools{Registry: base.reg, Querier: querier, Events: events.NewService(base.db),
		SQL: adhoc.NewService(base.db, adhoc.Config{}), Now: base.clock.Now}, base.q, insights.Config{Now: base.clock.Now})
	h := *base // the harness, with dashboards that read insights
	h.dash = dashboards.NewService(base.db, base.reg, func() *metrics.Loader { return metrics.NewLoader(querier, metrics.LoaderConfig{}) },
		dashboards.Config{Now: base.clock.Now, Insights: ins})
	var err error
	h.svc, err = reports.NewService(reports.Deps{DB: base.db, Blobs: base.blobs, Jobs: base.q, Bus: base.bus, Dashboards: h.dash, Metrics: querier},
		reports.Config{Now: base.clock.Now, AllowPrivateWebhooks: true})
	require.NoError(t, err)

	answer := func(question string) *insights.Insight {
		t.Helper()
		in, err := ins.Ask(ctx, question, insights.Context{}, "")
		require.NoError(t, err)
		for _, task := range h.q.Take(insights.KindAnswer) {
			id, params, err := jobs.TaskID(task)
			require.NoError(t, err)
			require.NoError(t, ins.Jobs()[0].Handler.ProcessJob(ctx, jobs.Job{ID: id, Kind: task.Kind, Tenant: task.Tenant, Params: params, MaxRetry: 2}))
		}
		got, err := ins.Get(ctx, in.ID)
		require.NoError(t, err)
		require.Equal(t, insights.StatusSucceeded, got.Status, got.Error)
		require.NotEmpty(t, got.Answer.Charts)
		return got
	}
	daily := answer("How many enrolments in January 2026?")
	byCourse := answer("How many enrolments by course in January 2026?")
	require.Equal(t, "line", daily.Answer.Charts[0].Type)
	require.Equal(t, "bar", byCourse.Answer.Charts[0].Type)

	d, err := h.dash.Create(ctx, dashboards.Input{Slug: "answers", Title: "Answers"}, nil)
	require.NoError(t, err)
	d, err = h.dash.PinInsightChart(ctx, d.ID, d.Version, daily.ID, 0, "Enrolments per day")
	require.NoError(t, err)
	_, err = h.dash.PinInsightChart(ctx, d.ID, d.Version, byCourse.ID, 0, "Enrolments by course")
	require.NoError(t, err)

	in := reports.Input{Name: "Answers", Format: reports.FormatPDF, Enabled: true,
		Source:   reports.Source{Dashboard: "answers", TimeRange: january()},
		Schedule: reports.Schedule{Cron: "0 6 * * 1", Timezone: "UTC"}}
	text := pdfText(t, h.object(t, h.runNow(t, ctx, in).ObjectKey))
	flat := strings.Join(strings.Fields(text), " ") // captions wrap
	bars := byCourse.Answer.Charts[0].Series[0]
	for _, in := range []*insights.Insight{daily, byCourse} {
		assert.Contains(t, flat, "Insight "+in.ID+", "+in.Question+", as of "+in.CreatedAt.UTC().Format("2 Jan 2006 15:04")+" UTC, confidence "+in.Answer.Confidence.Level)
	}
	assert.Contains(t, text, "Enrolments per day")
	assert.Contains(t, text, "Enrolments by course")
	for i, x := range bars.X { // the bar chart's table: each course with its stored value
		assert.Contains(t, text, x+" "+reports.NumberFormat("").Format(&bars.Y[i]))
	}
	assert.NotContains(t, text, "No data")

	in.Format = reports.FormatXLSX
	f, err := excelize.OpenReader(bytes.NewReader(h.object(t, h.runNow(t, ctx, in).ObjectKey)))
	require.NoError(t, err)
	sheets := f.GetSheetList()
	require.Len(t, sheets, 2, "%v", sheets)
	rows, err := f.GetRows(sheets[0])
	require.NoError(t, err)
	line := daily.Answer.Charts[0].Series[0]
	require.Len(t, rows, len(line.X)+1, "a header and a row per day")
	assert.Equal(t, []string{"day", line.Name}, rows[0])
	for i, x := range line.X {
		assert.Equal(t, []string{x, formatExcel(line.Y[i])}, rows[i+1])
	}

	in.Format = reports.FormatCSVZip
	run := h.runNow(t, ctx, in)
	zr, err := zip.NewReader(bytes.NewReader(h.object(t, run.ObjectKey)), int64(run.Bytes))
	require.NoError(t, err)
	require.Len(t, zr.File, 2)
	rc, err := zr.File[1].Open()
	require.NoError(t, err)
	raw, err := io.ReadAll(rc)
	require.NoError(t, err)
	_ = rc.Close()
	recs, err := csv.NewReader(bytes.NewReader(raw)).ReadAll()
	require.NoError(t, err)
	require.Len(t, recs, len(bars.X)+1)
	for i, x := range bars.X {
		assert.Equal(t, x, recs[i+1][0])
		assert.Equal(t, formatExcel(bars.Y[i]), recs[i+1][1])
	}
}
