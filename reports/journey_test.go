package reports_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"github.com/learnhub/analytics-service/dashboards"
	"github.com/learnhub/analytics-service/demo"
	"github.com/learnhub/analytics-service/demo/demotest"
	"github.com/learnhub/analytics-service/journeys"
	"github.com/learnhub/analytics-service/reports"
	"github.com/learnhub/analytics-service/timerange"
)

// journeyDashboard creates, for the tenant of ctx, a dashboard with a
// funnel by course, a weekly retention triangle and paths after enrolling.
func journeyDashboard(t *testing.T, h *harness, ctx context.Context) *dashboards.Dashboard {
	t.Helper()
	step := func(typ, label string) journeys.Step {
		return journeys.Step{Matcher: journeys.Matcher{EventType: typ}, Label: label}
	}
	funnel := &journeys.FunnelRequest{Steps: []journeys.Step{step("course.enrolled", "Enrolled"), step("lesson.completed", "Completed a lesson"),
		step("quiz.submitted", "Submitted a quiz"), step("course.completed", "Completed the course")},
		ConversionWindow: 14 * 24 * time.Hour, Breakdown: &journeys.Breakdown{Property: "course_id"}}
	retention := &journeys.RetentionRequest{StartEvent: journeys.Matcher{EventType: "course.enrolled"},
		ReturnEvent: journeys.Matcher{EventType: "lesson.completed"}, Period: timerange.GrainWeek, Periods: 4}
	paths := &journeys.PathsRequest{StartEvent: &journeys.Matcher{EventType: "course.enrolled"}, Steps: 4}
	d, err := h.dash.Create(ctx, dashboards.Input{Slug: "journeys", Title: "Learner journey"}, []dashboards.WidgetInput{
		{Title: "Learner funnel", Kind: dashboards.KindFunnel, Journey: &journeys.Query{Funnel: funnel}},
		{Title: "Weekly retention", Kind: dashboards.KindRetention, Journey: &journeys.Query{Retention: retention}},
		{Title: "After enrolling", Kind: dashboards.KindPaths, Journey: &journeys.Query{Paths: paths}},
	})
	require.NoError(t, err)
	return d
}

// walkers adds n learners of tenant who go through a course in one
// session each in January (the fixture's users have one event type per
// session, so paths need these).
func walkers(t *testing.T, h *harness, tenant string, n int) {
	t.Helper()
	for u := range n {
		at := time.Date(2026, 1, 5+u, 9, 0, 0, 0, time.UTC)
		for i, typ := range []string{"course.enrolled", "lesson.started", "lesson.completed", "quiz.submitted", "course.completed"} {
			require.NoError(t, h.db.Exec(context.Background(), "INSERT INTO events (tenant_id, event_id, type, user_id, session_id, occurred_at, received_at, properties) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
				tenant, fmt.Sprintf("%s-walk-%d-%d", tenant, u, i), typ, fmt.Sprintf("walker%d", u), fmt.Sprintf("walk%d", u),
				at.Add(time.Duration(i)*7*time.Minute), at, `{"course_id":"c1"}`))
		}
	}
}

func TestReportDrawsJourneyWidgets(t *testing.T) {
	h := newHarness(t)
	ctx := as("acme")
	walkers(t, h, "acme", 6)
	journeyDashboard(t, h, ctx)
	in := reports.Input{Name: "Learner journey", Format: reports.FormatPDF, Enabled: true,
		Source:   reports.Source{Dashboard: "journeys", TimeRange: january()},
		Schedule: reports.Schedule{Cron: "0 6 * * 1", Timezone: "UTC"}}
	pdf := h.object(t, h.runNow(t, ctx, in).ObjectKey)
	if out := os.Getenv("REPORT_PDF_OUT"); out != "" { // to look at the page: pdftoppm -png
		require.NoError(t, os.WriteFile(out, pdf, 0o644))
	}
	text := pdfText(t, pdf)
	for _, want := range []string{"Learner funnel", "1. Enrolled", "4. Completed the course", "Conversion", "Drop-off", "Median time",
		"Learner funnel by course id", "Weekly retention", "Week 0", "Week 4", "Mean (weighted)", "5 Jan 2026", "100.0%",
		"After enrolling", "course.enrolled", "lesson.started", "1 → 2"} {
		assert.Contains(t, text, want)
	}
	assert.NotContains(t, text, "No data")

	in.Format = reports.FormatXLSX
	f, err := excelize.OpenReader(bytes.NewReader(h.object(t, h.runNow(t, ctx, in).ObjectKey)))
	require.NoError(t, err)
	sheets := f.GetSheetList()
	require.Len(t, sheets, 4, "funnel, funnel by course, retention, paths: %v", sheets)
	rows, err := f.GetRows(sheets[2])
	require.NoError(t, err)
	assert.Contains(t, rows[0], "Week 1")
	assert.Equal(t, "Mean (weighted)", rows[len(rows)-1][0])
}

// TestLearnerJourneyReportOnDemoData runs a PDF report of the
// learner-journey preset over the demo data for two tenants: the funnel by
// course, the weekly triangle and the paths after course.enrolled are all
// drawn, and acme-corp's report shows none of demo's courses.
func TestLearnerJourneyReportOnDemoData(t *testing.T) {
	h := newHarness(t)
	end := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	per := demotest.Seed(t, h.db, demo.Options{Learners: 600, Days: 120, End: end})
	require.Positive(t, per["demo"])
	from := end.AddDate(0, 0, -84)
	in := reports.Input{Name: "Learner journey", Format: reports.FormatPDF, Enabled: true,
		Source:   reports.Source{Dashboard: dashboards.JourneyPresetSlug, TimeRange: timerange.Spec{From: &from, To: &end}},
		Schedule: reports.Schedule{Cron: "0 6 * * 1", Timezone: "UTC"}}
	texts := map[string]string{}
	for _, tenant := range []string{"demo", "acme-corp"} {
		pdf := h.object(t, h.runNow(t, as(tenant), in).ObjectKey)
		if out := os.Getenv("REPORT_PDF_OUT"); out != "" && tenant == "demo" {
			require.NoError(t, os.WriteFile(out, pdf, 0o644))
		}
		texts[tenant] = pdfText(t, pdf)
		for _, want := range []string{"Learner journey funnel", "1. Enrolled", "5. Completed the course", "Learner journey funnel by course id",
			"Weekly retention after enrolling", "Week 8", "Mean (weighted)", "What learners do after enrolling", "course.enrolled", "lesson.started"} {
			assert.Contains(t, texts[tenant], want, tenant)
		}
		assert.NotContains(t, texts[tenant], "No data", tenant)
		assert.Contains(t, texts[tenant], tenant+"-course-", "its own courses in the breakdown")
	}
	assert.NotContains(t, texts["acme-corp"], "demo-course-")
	assert.NotContains(t, texts["demo"], "acme-corp-course-")
}
