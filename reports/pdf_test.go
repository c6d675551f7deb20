package reports_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/dashboards"
	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/reports"
	"github.com/learnhub/analytics-service/timerange"
)

// TestPDFText renders reports whose name, metric titles and course ids
// are in Cyrillic, Polish, Czech, Turkish and Vietnamese with typographic
// symbols, and reads them back from the PDF: the embedded font writes
// them as they are. CJK has no glyphs in the font but stays in the text;
// an emoji, which fpdf cannot write, becomes U+FFFD instead of failing the
// run; a title too long for its line is cut at a rune, not a byte. The
// italic style, embedded on first use, writes "No rows in this period.".
func TestPDFText(t *testing.T) {
	const uni = "Курс ł ř ğ ệ € – …"
	long := strings.Repeat("Длинный курс ", 20)
	dashboard := dashboardReport(reports.FormatPDF)
	dashboard.Name = uni
	dashboard.Source.Filters = []metrics.Filter{{Dimension: "properties.course_id", Op: metrics.OpIn, Values: []string{uni, "c1"}}}
	noData := dashboardReport(reports.FormatPDF)
	noData.Source.Filters = []metrics.Filter{{Dimension: "properties.course_id", Op: metrics.OpEq, Values: []string{"Курс без данных"}}}
	metricsOnly := reports.Input{Name: "Ελληνικά " + uni, Format: reports.FormatPDF, Enabled: true,
		Schedule: reports.Schedule{Preset: reports.PresetMonthly, Timezone: "UTC"},
		Source: reports.Source{TimeRange: january(), Metrics: []reports.MetricQuery{
			{Title: uni, MetricKey: "enrolments"},
			{Title: uni + " by course", MetricKey: "enrolments", Chart: dashboards.KindBar, Dimensions: []string{"properties.course_id"}},
			{Title: "漢字 😀 per day", MetricKey: "course_completions", Chart: dashboards.KindLine, Grain: timerange.GrainDay},
			{Title: long, MetricKey: "quiz_passes", Chart: dashboards.KindTable, Dimensions: []string{"properties.course_id"}},
		}}}
	for _, c := range []struct {
		name string
		in   reports.Input
		want []string
		like string // a pattern the text matches
	}{
		{"dashboard named and filtered", dashboard, []string{uni, "Course in c1, " + uni, "LearnHub Analytics · " + uni},
			regexp.QuoteMeta(uni) + `\s+1\n`}, // the course's row in "Top courses"
		{"a course without data", noData, []string{"Course eq Курс без данных"}, `No rows in this period\.`},
		{"metric titles", metricsOnly, []string{"Ελληνικά " + uni, strings.ToUpper(uni), uni + " by course",
			"漢字 \uFFFD per day", "漢字 \uFFFD", "Enrolments"}, `(Длинный курс ){2,}\p{Cyrillic}*…\n`}, // the long title, shortened
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			ctx := as("acme")
			enrol(t, h, uni, "漢字 😀")
			text := pdfText(t, h.object(t, h.runNow(t, ctx, c.in).ObjectKey))
			assert.True(t, utf8.ValidString(text))
			for _, want := range c.want {
				assert.Contains(t, text, want)
			}
			assert.NotContains(t, text, long, "the long title is shortened")
			assert.Regexp(t, c.like, text)
		})
	}
}

// enrol adds one January enrolment of tenant "acme" in each course.
func enrol(t *testing.T, h *harness, courses ...string) {
	t.Helper()
	for i, c := range courses {
		require.NoError(t, h.db.Exec(context.Background(), `
			INSERT INTO events (tenant_id, event_id, type, user_id, session_id, occurred_at, received_at, properties)
			VALUES ('acme', ?, 'course.enrolled', 'u1', 's1', toDateTime64('2026-01-10 12:00:00', 3, 'UTC'),
			        toDateTime64('2026-02-01 00:00:00', 3, 'UTC'), toJSONString(map('course_id', ?)))`, fmt.Sprintf("enrol-%d", i), c))
	}
}
