package journeys

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/timerange"
)

var update = flag.Bool("update", false, "rewrite golden files")

var (
	now   = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	last  = timerange.Spec{Last: "30d"}
	enrol = Matcher{EventType: "course.enrolled"}
	quiz  = Matcher{EventType: "quiz.submitted", Filters: []Filter{{Property: "score", Op: OpGte, Values: []string{"60"}}}}
)

// learnerFunnel is the learner journey of the demo: enrolled → lesson
// started → lesson completed → quiz passed → course completed.
func learnerFunnel() FunnelRequest {
	return FunnelRequest{
		Steps: []Step{{Matcher: enrol, Label: "enrolled"}, {Matcher: Matcher{EventType: "lesson.started"}},
			{Matcher: Matcher{EventType: "lesson.completed", Filters: []Filter{{Property: "course_id", Op: OpIn, Values: []string{"c1", "c2"}}}}},
			{Matcher: quiz}, {Matcher: Matcher{EventType: "course.completed"}}},
		ConversionWindow: 14 * 24 * time.Hour,
		TimeRange:        last,
	}
}

// TestGoldenSQL pins the SQL of representative queries: the tenant guard
// first, every value bound, one argument per placeholder.
func TestGoldenSQL(t *testing.T) {
	scope, err := store.DangerousScopeForTenant("acme")
	require.NoError(t, err)
	ordered := learnerFunnel()
	ordered.Breakdown = &Breakdown{Property: "course_id", Attribution: LastTouch, TopN: 5}
	ordered.Exclusions = []Exclusion{{Matcher: Matcher{EventType: "course.dropped"}, From: 1, To: 5}}
	ordered.Cohorts = []string{"cohort-7"}
	strict := learnerFunnel()
	strict.Order = Strict
	unordered := learnerFunnel()
	unordered.Order, unordered.Breakdown = Unordered, &Breakdown{Property: "course_id"}
	cases := map[string]func() (string, []any, error){
		"funnel_ordered": func() (string, []any, error) { return funnelSQLOf(scope, ordered) },
		"funnel_strict":  func() (string, []any, error) { return funnelSQLOf(scope, strict) },
		"funnel_ordered_long_range": func() (string, []any, error) {
			// A range too long for the time in the event key: the tuple layout.
			p, err := checkFunnel(ordered, now)
			if err != nil {
				return "", nil, err
			}
			p.keyBits = 40
			sql, args := p.funnelSQL(scope)
			return sql, args, nil
		},
		"funnel_unordered": func() (string, []any, error) {
			return funnelSQLOf(scope, unordered)
		},
		"retention_first_time_month": func() (string, []any, error) {
			p, err := checkRetention(RetentionRequest{StartEvent: enrol, ReturnEvent: Matcher{EventType: "lesson.started"}, Period: timerange.GrainMonth,
				Periods: 6, TimeRange: timerange.Spec{Last: "180d"}, TimeZone: "Europe/Berlin", Breakdown: &RetentionBreakdown{Property: "course_id"}}, now)
			if err != nil {
				return "", nil, err
			}
			sql, args := p.retentionSQL(scope)
			return sql, args, nil
		},
		"retention_recurring_week_cumulative": func() (string, []any, error) {
			p, err := checkRetention(RetentionRequest{StartEvent: Matcher{EventType: "user.login"}, ReturnEvent: Matcher{EventType: "user.login"}, Period: timerange.GrainWeek,
				Periods: 12, Mode: Recurring, Cumulative: true, TimeRange: timerange.Spec{Last: "12w"}}, now)
			if err != nil {
				return "", nil, err
			}
			sql, args := p.retentionSQL(scope)
			return sql, args, nil
		},
		"paths_end": func() (string, []any, error) {
			p, err := checkPaths(PathsRequest{EndEvent: &quiz, Steps: 4, Exclude: []string{"user.login"}, MinEdgeUsers: 3, TimeRange: last}, now)
			if err != nil {
				return "", nil, err
			}
			sql, args := p.pathsSQL(scope)
			return sql, args, nil
		},
	}
	for name, f := range cases {
		t.Run(name, func(t *testing.T) {
			sql, args, err := f()
			require.NoError(t, err)
			assert.True(t, strings.Contains(sql, "WHERE `tenant_id` = ?"), "tenant guard")
			assert.Equal(t, strings.Count(sql, "?"), len(args), "one argument per placeholder")
			got := strings.ReplaceAll(sql, " FROM (", "\n  FROM (") + "\n-- args:\n"
			for _, a := range args {
				got += fmt.Sprintf("--   %v\n", a)
			}
			golden := filepath.Join("testdata", name+".golden.sql")
			if *update {
				require.NoError(t, os.MkdirAll("testdata", 0o755))
				require.NoError(t, os.WriteFile(golden, []byte(got), 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "run go test ./journeys -run Golden -update")
			assert.Equal(t, string(want), got)
		})
	}
}

func funnelSQLOf(scope store.Scope, r FunnelRequest) (string, []any, error) {
	p, err := checkFunnel(r, now)
	if err != nil {
		return "", nil, err
	}
	sql, args := p.funnelSQL(scope)
	return sql, args, nil
}

// TestBadInputNamesTheField checks that each invalid request is refused as
// bad user input naming the field and saying what would be right.
func TestBadInputNamesTheField(t *testing.T) {
	funnel := func(f func(*FunnelRequest)) func() error {
		return func() error {
			r := learnerFunnel()
			f(&r)
			_, err := checkFunnel(r, now)
			return err
		}
	}
	retention := func(f func(*RetentionRequest)) func() error {
		return func() error {
			r := RetentionRequest{StartEvent: enrol, ReturnEvent: enrol, Period: timerange.GrainWeek, Periods: 12, TimeRange: last}
			f(&r)
			_, err := checkRetention(r, now)
			return err
		}
	}
	paths := func(f func(*PathsRequest)) func() error {
		return func() error {
			r := PathsRequest{StartEvent: &enrol, TimeRange: last}
			f(&r)
			_, err := checkPaths(r, now)
			return err
		}
	}
	many := make([]Step, MaxSteps+1)
	for i := range many {
		many[i] = Step{Matcher: enrol}
	}
	for _, tc := range []struct {
		name, field, says string
		err               func() error
	}{
		{"one step", "steps", "at least 2 steps", funnel(func(r *FunnelRequest) { r.Steps = r.Steps[:1] })},
		{"too many steps", "steps", "at most 20 steps, got 21", funnel(func(r *FunnelRequest) { r.Steps = many })},
		{"bad event type", "steps[1].eventType", "is not an event type", funnel(func(r *FunnelRequest) { r.Steps[1].EventType = "Lesson Started" })},
		{"zero window", "conversionWindow", "must be positive", funnel(func(r *FunnelRequest) { r.ConversionWindow = 0 })},
		{"negative window", "conversionWindow", "must be positive", funnel(func(r *FunnelRequest) { r.ConversionWindow = -time.Hour })},
		{"order", "order", "use ORDERED, STRICT or UNORDERED", funnel(func(r *FunnelRequest) { r.Order = "SOMETIMES" })},
		{"filter op", "steps[3].filters[0].op", "use one of", funnel(func(r *FunnelRequest) {
			r.Steps[3].Filters = []Filter{{Property: "score", Op: "like", Values: []string{"1"}}}
		})},
		{"filter number", "steps[3].filters[0].values", "is not a number", funnel(func(r *FunnelRequest) {
			r.Steps[3].Filters = []Filter{{Property: "score", Op: OpGte, Values: []string{"high"}}}
		})},
		{"exclusion steps", "exclusions[0].betweenSteps", "1 ≤ from < to ≤ 5", funnel(func(r *FunnelRequest) {
			r.Exclusions = []Exclusion{{Matcher: enrol, From: 3, To: 3}}
		})},
		{"exclusion unordered", "exclusions", "ORDERED or STRICT", funnel(func(r *FunnelRequest) {
			r.Order, r.Exclusions = Unordered, []Exclusion{{Matcher: enrol, From: 1, To: 2}}
		})},
		{"attribution step", "breakdown.step", "from 1 to 5", funnel(func(r *FunnelRequest) {
			r.Breakdown = &Breakdown{Property: "course_id", Attribution: StepTouch, Step: 9}
		})},
		{"top n", "breakdown.topN", "between 1 and 50", funnel(func(r *FunnelRequest) { r.Breakdown = &Breakdown{Property: "course_id", TopN: 51} })},
		{"time zone", "timeZone", "IANA", funnel(func(r *FunnelRequest) { r.TimeZone = "Mars/Olympus" })},
		{"periods over 52", "periods", "between 1 and 52", retention(func(r *RetentionRequest) { r.Periods = 53 })},
		{"period", "period", "use DAY, WEEK or MONTH", retention(func(r *RetentionRequest) { r.Period = timerange.GrainHour })},
		{"return event", "returnEvent.eventType", "is not an event type", retention(func(r *RetentionRequest) { r.ReturnEvent.EventType = "" })},
		{"mode", "mode", "FIRST_TIME or RECURRING", retention(func(r *RetentionRequest) { r.Mode = "ALWAYS" })},
		{"too many days", "timeRange", "at most 400", retention(func(r *RetentionRequest) { r.Period, r.TimeRange = timerange.GrainDay, timerange.Spec{Last: "600d"} })},
		{"path steps", "steps", "between 2 and 10", paths(func(r *PathsRequest) { r.Steps = 11 })},
		{"both anchors", "endEvent", "not both", paths(func(r *PathsRequest) { r.EndEvent = &quiz })},
		{"excluded type", "exclude[0]", "is not an event type", paths(func(r *PathsRequest) { r.Exclude = []string{"DROP TABLE"} })},
		{"max edges", "maxEdges", "between 1 and 500", paths(func(r *PathsRequest) { r.MaxEdges = 501 })},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.err()
			require.Error(t, err)
			assert.Equal(t, errs.KindInvalid, errs.KindOf(err), "%v", err)
			var e *errs.Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, tc.field, e.Fields["field"])
			assert.Contains(t, e.Msg, tc.says)
		})
	}
}
