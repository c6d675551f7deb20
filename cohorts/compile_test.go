package cohorts

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

	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestMembersSQLGolden pins the SQL of a representative criteria tree: the
// tenant guard on every table, every value bound.
func TestMembersSQLGolden(t *testing.T) {
	scope, err := store.DangerousScopeForTenant("acme")
	require.NoError(t, err)
	crit := &Criteria{And: []Criteria{
		{Performed: &Performed{Type: "lesson.completed", Count: 3, Within: "30d", Where: map[string]string{"course_id": "c1"}}},
		{Not: &Criteria{Performed: &Performed{Type: "certificate.issued", Op: "gt", Count: 0}}},
		{Or: []Criteria{{FirstSeen: &Seen{After: "90d"}}, {InCohort: "cohort-7"}}},
		{DidNotPerform: &Performed{Type: "course.completed", Between: &Between{From: "2026-01-01T00:00:00Z", To: "2026-04-01T00:00:00Z"}}},
		{Performed: &Performed{Type: "quiz.submitted", Op: ">", Count: 1, Filters: []PropertyFilter{{Property: "score", Op: "lt", Value: "60"}}}},
		{Property: &PropertyValue{Property: "plan", Type: "user.login", Op: "neq", Value: "free"}},
		{Metric: &MetricThreshold{Key: "avg_quiz_score", Op: "<", Value: 60, Within: "30d"}},
		{Metric: &MetricThreshold{Key: "quiz_passes", Op: ">=", Value: 2}},
	}}
	defs := map[string]*metrics.Definition{}
	for _, in := range metrics.Catalog() {
		defs[in.Key] = &metrics.Definition{Input: in}
	}
	sql, args, refs, err := membersSQL(scope, crit, t0, defs)
	require.NoError(t, err)
	assert.Equal(t, []string{"cohort-7"}, refs)
	got := sql + "\n-- args:\n"
	for _, a := range args {
		got += fmt.Sprintf("--   %v\n", a)
	}
	golden := filepath.Join("testdata", "members.golden.sql")
	if *update {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(golden, []byte(got), 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err, "run go test ./cohorts -run Golden -update")
	assert.Equal(t, string(want), got)
	assert.Equal(t, strings.Count(sql, "?"), len(args), "one argument per placeholder")
}

// TestCriteriaErrorsNameTheNode checks that each invalid node is reported
// with its path and what would be right.
func TestCriteriaErrorsNameTheNode(t *testing.T) {
	scope, err := store.DangerousScopeForTenant("acme")
	require.NoError(t, err)
	defs := map[string]*metrics.Definition{
		"rate":  {Input: metrics.Input{Key: "rate", Kind: metrics.KindRatio}},
		"count": {Input: metrics.Input{Key: "count", Kind: metrics.KindCount}},
	}
	login := Criteria{Performed: &Performed{Type: "user.login"}}
	for _, tc := range []struct {
		name  string
		crit  Criteria
		field string
		says  string
	}{
		{"count below zero", Criteria{And: []Criteria{login, {Performed: &Performed{Type: "user.login", Count: -1}}}}, "criteria.and[1].performed.count", "0 or more"},
		{"unknown count op", Criteria{Or: []Criteria{login, {Performed: &Performed{Type: "user.login", Op: "about"}}}}, "criteria.or[1].performed.op", "use gte"},
		{"two kinds in a node", Criteria{Performed: login.Performed, InCohort: "x"}, "criteria", "exactly one"},
		{"bad event type", Criteria{Not: &Criteria{DidNotPerform: &Performed{Type: "Lesson Completed"}}}, "criteria.not.didNotPerform.type", "event type"},
		{"count on didNotPerform", Criteria{DidNotPerform: &Performed{Type: "user.login", Count: 2}}, "criteria.didNotPerform.count", "count = 0"},
		{"within and between", Criteria{Performed: &Performed{Type: "user.login", Within: "7d", Between: &Between{From: "2026-01-01T00:00:00Z", To: "2026-02-01T00:00:00Z"}}}, "criteria.performed.within", "not both"},
		{"between backwards", Criteria{Performed: &Performed{Type: "user.login", Between: &Between{From: "2026-02-01T00:00:00Z", To: "2026-01-01T00:00:00Z"}}}, "criteria.performed.between", "from before to"},
		{"numeric filter on text", Criteria{Performed: &Performed{Type: "quiz.submitted", Filters: []PropertyFilter{{Property: "score", Op: "gt", Value: "high"}}}}, "criteria.performed.filters[0].value", "must be a number"},
		{"bad property name", Criteria{Property: &PropertyValue{Property: "Plan!", Op: "eq", Value: "x"}}, "criteria.property.property", "property name"},
		{"contains on latest value", Criteria{Property: &PropertyValue{Property: "plan", Op: "contains", Value: "x"}}, "criteria.property.op", "use eq"},
		{"missing metric", Criteria{And: []Criteria{login, {Metric: &MetricThreshold{Key: "nope", Op: "<", Value: 1}}}}, "criteria.and[1].metric.key", "does not exist"},
		{"ratio metric", Criteria{Metric: &MetricThreshold{Key: "rate", Op: "<", Value: 1}}, "criteria.metric.key", "COUNT, SUM, AVG, MIN or MAX"},
		{"metric without op", Criteria{Metric: &MetricThreshold{Key: "count", Value: 1}}, "criteria.metric.op", "use gte"},
		{"bad seen", Criteria{LastSeen: &Seen{After: "yesterday"}}, "criteria.lastSeen.after", "RFC 3339"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, _, err := membersSQL(scope, &tc.crit, t0, defs)
			require.Error(t, err)
			assert.True(t, errs.Is(err, errs.KindInvalid))
			assert.Equal(t, tc.field, errs.PublicFields(err)["field"])
			assert.Contains(t, errs.PublicMessage(err), tc.says)
		})
	}
}

var t0 = mustTime("2026-06-01T12:00:00Z")

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestNarrowingSkipsOnlyEventsThatCannotMatter(t *testing.T) {
	did := func(typ string, op string, n int) Criteria {
		return Criteria{Performed: &Performed{Type: typ, Op: op, Count: n}}
	}
	not := func(c Criteria) Criteria { return Criteria{Not: &c} }
	for _, tc := range []struct {
		name  string
		c     Criteria
		types []string // nil: scan every event
	}{
		{"performed", did("lesson.completed", "", 3), []string{"lesson.completed"}},
		{"and with a negation", Criteria{And: []Criteria{did("b", "gte", 2), not(did("a", "gte", 4))}}, []string{"a", "b"}},
		{"didNotPerform alone holds without events", Criteria{DidNotPerform: &Performed{Type: "a"}}, nil},
		{"count below holds at zero", did("a", "lt", 2), nil},
		{"or with a zero-true branch", Criteria{Or: []Criteria{did("a", "gte", 1), did("b", "eq", 0)}}, nil},
		{"firstSeen reads every event", Criteria{And: []Criteria{did("a", "gte", 1), {FirstSeen: &Seen{Before: "30d"}}}}, nil},
		{"inCohort is not a count", Criteria{And: []Criteria{did("a", "gte", 1), {InCohort: "x"}}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			types, ok := narrowing(tc.c)
			assert.Equal(t, tc.types != nil, ok)
			assert.Equal(t, tc.types, types)
		})
	}
}
