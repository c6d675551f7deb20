package metrics

import (
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/timerange"
)

var update = flag.Bool("update", false, "rewrite the golden SQL files in testdata")

func ptr[T any](v T) *T { return &v }

// catalogDefs is the catalog as stored definitions, for compiling offline.
func catalogDefs() []*Definition {
	var all []*Definition
	for _, in := range Catalog() {
		d := &Definition{ID: "id-" + in.Key, Status: StatusActive, Version: 1}
		in.apply(d)
		all = append(all, d)
	}
	return all
}

func TestCompileGolden(t *testing.T) {
	scope, err := store.DangerousScopeForTenant("acme")
	require.NoError(t, err)
	from, to := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	jan := timerange.Spec{From: &from, To: &to}
	now := to
	all := catalogDefs()
	all = append(all, &Definition{ID: "conv", Status: StatusActive, Input: Input{Key: "enrol_to_complete", Name: "c", Kind: KindConversion,
		Conversion: &Conversion{StartEvent: "course.enrolled", EndEvent: "course.completed", Window: "7d"}, Dimensions: learningDims}})
	for _, tc := range []struct {
		name string
		reqs []Request
		top  []uint64
	}{
		{"count_total", []Request{{MetricKey: "enrolments", TimeRange: jan, Grain: GrainTotal}}, nil},
		// Counts per day: the total is folded from the buckets (no GROUPING SETS).
		{"count_per_day_folded_total", []Request{{MetricKey: "enrolments", TimeRange: jan, Grain: "DAY"}}, nil},
		{"avg_week_berlin_partial", []Request{{MetricKey: "avg_quiz_score", TimeRange: timerange.Spec{Last: "30d"}, Grain: "WEEK", Timezone: "Europe/Berlin"}}, nil},
		{"batch_rollup_dims_filters", []Request{
			{MetricKey: "enrolments", TimeRange: jan, Grain: "DAY", Dimensions: []string{"properties.course_id"}, Filters: []Filter{{Dimension: "type", Op: OpNeq, Values: []string{"x"}}}},
			{MetricKey: "course_completion_rate", TimeRange: jan, Grain: "DAY", Dimensions: []string{"properties.course_id"}, Filters: []Filter{{Dimension: "type", Op: OpNeq, Values: []string{"x"}}}},
			{MetricKey: "active_learners_dau", TimeRange: jan, Grain: "DAY", Dimensions: []string{"properties.course_id"}, Filters: []Filter{{Dimension: "type", Op: OpNeq, Values: []string{"x"}}}},
		}, nil},
		{"raw_filtered_ratio_top", []Request{{MetricKey: "quiz_pass_rate", TimeRange: jan, Dimensions: []string{"properties.course_id", "type"}, Limit: 3}}, []uint64{1, 2, 3}},
		// One dimension, no buckets: totals per course and overall by ROLLUP.
		{"users_by_course_top_total", []Request{{MetricKey: "active_learners_dau", TimeRange: jan, Grain: GrainTotal, Dimensions: []string{"properties.course_id"}, Limit: 3}}, []uint64{1, 2, 3}},
		{"rollup_users_dau_by_course", []Request{{MetricKey: "active_learners_dau", TimeRange: jan, Grain: "DAY", Dimensions: []string{"properties.course_id"}}}, nil},
		// A name ending in _cluster compiles for tables spread over a
		// cluster's shards: a (day, course) has a row per shard there, so
		// the buckets merge states.
		{"rollup_users_dau_by_course_cluster", []Request{{MetricKey: "active_learners_dau", TimeRange: jan, Grain: "DAY", Dimensions: []string{"properties.course_id"}}}, nil},
		// No dimension: one row per day in metrics_daily_active.
		{"rollup_active_dau", []Request{{MetricKey: "active_learners_dau", TimeRange: jan, Grain: "DAY"}}, nil},
		{"rollup_active_wau_partial", []Request{{MetricKey: "active_learners_wau", TimeRange: timerange.Spec{From: ptr(from.Add(7 * time.Hour)), To: ptr(to.Add(-90 * time.Minute))}, Grain: "WEEK"}}, nil},
		{"rollup_count_per_day_dirty", []Request{{MetricKey: "enrolments", TimeRange: jan, Grain: "DAY"}}, nil},
		{"rollup_partial_edge_days", []Request{{MetricKey: "avg_quiz_score", TimeRange: timerange.Spec{From: ptr(from.Add(7 * time.Hour)), To: ptr(to.Add(-90 * time.Minute))}, Grain: "DAY"}}, nil},
		{"new_learners", []Request{{MetricKey: "new_learners", TimeRange: jan, Grain: "MONTH"}}, nil},
		{"conversion", []Request{{MetricKey: "enrol_to_complete", TimeRange: jan, Grain: "WEEK", Dimensions: []string{"properties.course_id"}}}, nil},
		{"cohort_filter_breakdown", []Request{{MetricKey: "enrolments", TimeRange: jan, Grain: "DAY", Dimensions: []string{"properties.course_id"},
			Cohorts: []CohortFilter{{CohortID: "c-keen"}, {CohortID: "c-staff", Exclude: true}}, CohortBreakdown: "c-new"}}, nil},
		{"conversion_cohort_breakdown", []Request{{MetricKey: "enrol_to_complete", TimeRange: jan, Grain: "WEEK",
			Cohorts: []CohortFilter{{CohortID: "c-staff", Exclude: true}}, CohortBreakdown: "c-new"}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var plans []*plan
			for _, r := range tc.reqs {
				p, err := newPlan(r, scope, all, now)
				require.NoError(t, err)
				p.sharded = strings.HasSuffix(tc.name, "_cluster")
				plans = append(plans, p)
			}
			g := newGroup(plans)
			var gq groupQuery
			if plans[0].conversion {
				gq = compileConversion(plans[0], plans[0].rng, tc.top)
			} else {
				src := plans[0].source(g.comps, plans[0].rng)
				if rs, ok := src.(rollupSource); ok && strings.HasSuffix(tc.name, "_dirty") {
					// As resolveDirty lists them: two days written since their rebuild.
					rs.dirtyDays = []time.Time{from.AddDate(0, 0, 4), from.AddDate(0, 0, 8)}
					src = rs
				}
				gq = compileGroup(src, plans[0], g.comps, plans[0].rng, tc.top)
			}
			var b strings.Builder
			fmt.Fprintf(&b, "-- path: %s\n%s\n", plans[0].path, strings.ReplaceAll(gq.sql, " FROM ", "\nFROM "))
			for i, a := range gq.args {
				fmt.Fprintf(&b, "-- arg %d: %#v\n", i, a)
			}
			assert.Equal(t, strings.Count(gq.sql, "?"), len(gq.args), "placeholders and args")
			assert.Contains(t, gq.sql, "tenant_id` = ?", "tenant guard")
			golden := filepath.Join("testdata", tc.name+".golden.sql")
			if *update {
				require.NoError(t, os.MkdirAll("testdata", 0o755))
				require.NoError(t, os.WriteFile(golden, []byte(b.String()), 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "run go test ./metrics -run Golden -update")
			assert.Equal(t, string(want), b.String())
		})
	}
}

func FuzzFilterAndExpression(f *testing.F) {
	f.Add("properties.course_id", "in", "c1", "a / (b + 2) * 100")
	f.Add("type", "contains", "quiz", "-a--b")
	f.Add("properties.score", "gte", "60.5", "((((a))))")
	f.Fuzz(func(t *testing.T, dim, op, value, expr string) {
		d := &Definition{Input: Input{Key: "m", Dimensions: []Dimension{{Path: "properties.course_id", Type: TypeString}, {Path: "properties.score", Type: TypeFloat64}}}}
		bf, err := bindFilter("fuzz", "filters[0]", Filter{Dimension: dim, Op: Op(op), Values: []string{value}}, d.dimension, nil)
		if err == nil {
			sql, arg := bf.sql(rawDimSQL(bf.dim))
			if strings.Contains(sql, value) && value != "" && !strings.Contains(rawDimSQL(bf.dim), value) {
				t.Fatalf("value %q reached the SQL text %q", value, sql)
			}
			_ = arg
		}
		if e, err := ParseExpression(expr); err == nil {
			vals := map[string]*float64{}
			for _, k := range e.Idents() {
				one := 1.0
				vals[k] = &one
			}
			_ = e.Eval(vals)
		}
	})
}

func TestTotalFoldMatchesSQL(t *testing.T) {
	inf := math.Inf(1)
	f := newTotalFold(totalFolds([]component{{Kind: KindCount}, {Kind: KindMin}, {Kind: KindMax}, {Kind: KindMin}}))
	f.add([]any{uint64(3), 5.0, 5.0, nil})
	f.add([]any{uint64(4), inf, inf, nil})
	f.add([]any{uint64(0), nil, 2.0, nil})
	got := f.result()
	require.NotNil(t, got[0])
	assert.Equal(t, 7.0, *got[0], "counts add up")
	require.NotNil(t, got[1])
	assert.Equal(t, 5.0, *got[1], "an infinite bucket does not hide the finite minimum")
	assert.Nil(t, got[2], "an infinite maximum is shown as nil, as the SQL total would be")
	assert.Nil(t, got[3], "no non-NULL bucket: NULL total")
	assert.Nil(t, totalFolds([]component{{Kind: KindCount}, {Kind: KindUniqueUsers}}), "unique users do not fold")
	assert.Nil(t, totalFolds([]component{{Kind: KindSum}}), "float sums are left to the engine")
}
