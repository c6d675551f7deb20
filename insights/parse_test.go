package insights_test

import (
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/insights"
	"github.com/learnhub/analytics-service/metrics"
)

// catalog is the learning catalog as stored definitions.
func catalog() []*metrics.Definition {
	var out []*metrics.Definition
	for _, in := range metrics.Catalog() {
		out = append(out, &metrics.Definition{ID: in.Key, Input: in, Status: metrics.StatusActive})
	}
	return out
}

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func TestParse(t *testing.T) {
	now := time.Date(2026, 6, 1, 9, 30, 0, 0, time.UTC)
	p := insights.NewParser(catalog(), []string{"Course finishers"}, now)
	for _, tc := range []struct {
		q              string
		kind           insights.Kind
		metric, dim    string
		from, to       time.Time
		cmpFrom, cmpTo time.Time
		horizon        int
		filter, cohort string
	}{
		{q: "Why did course completions drop in March?", kind: insights.KindWhyChanged, metric: "course_completions",
			from: day(2026, 3, 1), to: day(2026, 4, 1), cmpFrom: day(2026, 2, 1), cmpTo: day(2026, 3, 1)},
		{q: "why did enrolments change in May compared to January 2026", kind: insights.KindWhyChanged, metric: "enrolments",
			from: day(2026, 5, 1), to: day(2026, 6, 1), cmpFrom: day(2026, 1, 1), cmpTo: day(2026, 2, 1)},
		{q: "Why is the completion rate down in the last 2 weeks?", kind: insights.KindWhyChanged, metric: "course_completion_rate",
			from: day(2026, 5, 18), to: day(2026, 6, 1), cmpFrom: day(2026, 5, 4), cmpTo: day(2026, 5, 18)},
		{q: "How many enrolments in July?", kind: insights.KindWhatIs, metric: "enrolments", from: day(2025, 7, 1), to: day(2025, 8, 1)},
		{q: "How many enrolments since 2026-05-10?", kind: insights.KindWhatIs, metric: "enrolments", from: day(2026, 5, 10), to: day(2026, 6, 1)},
		{q: "How many enrolments this month?", kind: insights.KindWhatIs, metric: "enrolments", from: day(2026, 6, 1), to: day(2026, 6, 1).Add(0)},
		{q: "quiz pass rate by course in April", kind: insights.KindByDimension, metric: "quiz_pass_rate", dim: "properties.course_id",
			from: day(2026, 4, 1), to: day(2026, 5, 1)},
		{q: "Lesson completions for demo-course-07 last week", kind: insights.KindWhatIs, metric: "lesson_completions",
			from: day(2026, 5, 25), to: day(2026, 6, 1), filter: "demo-course-07"},
		{q: "Is anything unusual in certificates?", kind: insights.KindUnusual, metric: "certificates_issued", from: day(2026, 5, 2), to: day(2026, 6, 1)},
		{q: "Forecast new learners for the next 3 weeks", kind: insights.KindForecast, metric: "new_learners", horizon: 21,
			from: day(2026, 2, 1), to: day(2026, 6, 1)},
		{q: "how big is the course finishers cohort", kind: insights.KindCohort, cohort: "Course finishers"},
		{q: "Why?", kind: insights.KindDeclined},
		{q: "DROP TABLE events; delete everything", kind: insights.KindDeclined},
		{q: "Forecast enrolments for the next 12 months", kind: insights.KindDeclined, metric: "enrolments"},
		{q: "Enrolments by teacher", kind: insights.KindDeclined, metric: "enrolments"},
	} {
		t.Run(tc.q, func(t *testing.T) {
			in := p.Parse(tc.q, insights.Context{})
			require.Equal(t, tc.kind, in.Kind, "%v", in.Assumptions)
			assert.Equal(t, tc.metric, in.MetricKey)
			assert.Equal(t, tc.dim, in.Dimension)
			assert.Equal(t, tc.cohort, in.Cohort)
			assert.Equal(t, tc.horizon, in.Horizon)
			if tc.kind == insights.KindDeclined {
				assert.NotEmpty(t, in.Assumptions, "a decline says why")
				return
			}
			if !tc.from.IsZero() && tc.from != tc.to {
				require.NotNil(t, in.Period)
				assert.Equal(t, [2]time.Time{tc.from, tc.to}, [2]time.Time{in.Period.From, in.Period.To})
			}
			if !tc.cmpFrom.IsZero() {
				require.NotNil(t, in.Compare)
				assert.Equal(t, [2]time.Time{tc.cmpFrom, tc.cmpTo}, [2]time.Time{in.Compare.From, in.Compare.To})
			}
			if tc.filter != "" {
				require.Len(t, in.Filters, 1)
				assert.Equal(t, []string{tc.filter}, in.Filters[0].Values)
			}
		})
	}
}

// FuzzParse: any text parses to a kind, never panics, and a period it
// reads is a non-empty window.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"Why did course completions drop in March?", "enrolments by course since 2026-01-01 compared to last month",
		"forecast quiz passes next 999 weeks", "how big is the cohort x", "from 2026-05-01 to 2026-04-01 lesson completions", ""} {
		f.Add(s)
	}
	p := insights.NewParser(catalog(), []string{"x"}, time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC))
	f.Fuzz(func(t *testing.T, q string) {
		if !utf8.ValidString(q) {
			return
		}
		in := p.Parse(q, insights.Context{})
		assert.NotEmpty(t, in.Kind)
		for _, per := range []*insights.Period{in.Period, in.Compare} {
			if per != nil {
				assert.True(t, per.From.Before(per.To), "%q: empty period %v", q, per)
			}
		}
	})
}
