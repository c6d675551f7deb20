package metrics_test

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/metrics"
)

// kindTenants are the two tenants of the kind tests; globex's events differ
// (salt), so an answer that read the other tenant's rows would not match.
var kindTenants = []string{"acme", "globex"}

// seedKinds seeds January 2026 for both tenants plus January 2025 (about
// half of each tenant's events moved back a year, for PREVIOUS_YEAR) and
// creates the non-catalog metrics the tests query in each tenant.
func seedKinds(t *testing.T, e *env) {
	t.Helper()
	seed(t, e.db, "acme", 3000, 0)
	seed(t, e.db, "globex", 2000, 3)
	require.NoError(t, e.db.Exec(context.Background(), `
		INSERT INTO events (tenant_id, event_id, type, user_id, session_id, occurred_at, received_at, properties)
		SELECT tenant_id, concat(event_id, '-ly'), type, user_id, session_id, occurred_at - toIntervalYear(1), received_at, properties
		FROM events WHERE cityHash64(event_id) % 2 = 0 AND occurred_at >= '2026-01-01'`))
	for _, tenant := range kindTenants {
		for _, in := range []metrics.Input{
			{Key: "enrol_to_complete", Name: "Enrolment to completion", Kind: metrics.KindConversion,
				Conversion: &metrics.Conversion{StartEvent: "course.enrolled", EndEvent: "course.completed", Window: "12h"},
				Dimensions: []metrics.Dimension{{Path: "properties.course_id", Type: metrics.TypeString}}},
			{Key: "enrolments_running", Name: "Enrolments to date", Kind: metrics.KindCumulative, Base: "enrolments",
				Dimensions: []metrics.Dimension{{Path: "properties.course_id", Type: metrics.TypeString}}},
			{Key: "completions_per_100", Name: "Completions per 100 enrolments", Kind: metrics.KindFormula,
				Expression: "(course_completions + lesson_completions) / enrolments * 100",
				Dimensions: []metrics.Dimension{{Path: "properties.course_id", Type: metrics.TypeString}, {Path: "type", Type: metrics.TypeString}}},
			{Key: "score_p90", Name: "Quiz score p90", Kind: metrics.KindPercentile, Percentile: 0.9, EventTypes: []string{"quiz.submitted"},
				Value:      &metrics.ValueRef{Path: "properties.score", Type: metrics.TypeFloat64},
				Dimensions: []metrics.Dimension{{Path: "properties.course_id", Type: metrics.TypeString}}},
		} {
			_, err := e.reg.Create(as(tenant), in)
			require.NoError(t, err, in.Key)
		}
	}
}

// TestKindsMatchHandWrittenSQL checks the derived kinds and comparisons
// against hand-written SQL over the events table, for both tenants and
// both queriers (rollup allowed, raw only). Hand-written rows are
// (k, v): k is "<dimension values>|<bucket day>" for points,
// "<dimension values>|total" for series totals and "|grand" for the
// result's total; v is NaN for "no value".
func TestKindsMatchHandWrittenSQL(t *testing.T) {
	e := newEnv(t)
	seedKinds(t, e)
	jan25 := "occurred_at >= '2025-01-01' AND occurred_at < '2025-02-01'"
	jan26 := "occurred_at >= '2026-01-01' AND occurred_at < '2026-02-01'"
	course := "ifNull(accurateCastOrNull(properties.course_id, 'String'), '')"
	score := "toFloat64(properties.score)"
	for _, tc := range []struct {
		name string
		req  metrics.Request
		// value is the hand-written SQL of Point.Value (and totals); its
		// only argument is the tenant, given once per ? it has.
		value string
		// compare, when set, is the hand-written SQL of CompareValue.
		compare string
	}{
		{
			name: "conversion by course per week",
			req:  metrics.Request{MetricKey: "enrol_to_complete", TimeRange: january, Grain: "WEEK", Dimensions: []string{"properties.course_id"}},
			value: `
				WITH s AS (SELECT user_id, occurred_at AS t, ` + course + ` AS c FROM events FINAL
				           WHERE tenant_id = ? AND type = 'course.enrolled' AND ` + jan26 + `),
				     f AS (SELECT user_id, min(t) AS first, argMin(c, t) AS c FROM s GROUP BY user_id),
				     conv AS (SELECT DISTINCT s.user_id AS user_id FROM s
				              INNER JOIN (SELECT user_id, occurred_at AS t FROM events FINAL WHERE tenant_id = ? AND type = 'course.completed') AS e
				              ON s.user_id = e.user_id WHERE e.t > s.t AND e.t <= s.t + INTERVAL 12 HOUR),
				     u AS (SELECT f.user_id AS user_id, f.first AS first, f.c AS c, f.user_id IN (SELECT user_id FROM conv) AS ok FROM f)
				SELECT concat(c, '|', toString(toMonday(first))), countIf(ok) / count() FROM u GROUP BY c, toMonday(first)
				UNION ALL SELECT concat(c, '|total'), countIf(ok) / count() FROM u GROUP BY c
				UNION ALL SELECT '|grand', countIf(ok) / count() FROM u`,
		},
		{
			name: "cumulative by course per day",
			req:  metrics.Request{MetricKey: "enrolments_running", TimeRange: january, Grain: "DAY", Dimensions: []string{"properties.course_id"}},
			value: `
				WITH d AS (SELECT ` + course + ` AS c, toDate(occurred_at) AS day, count() AS n FROM events FINAL
				           WHERE tenant_id = ? AND type = 'course.enrolled' AND ` + jan26 + ` GROUP BY c, day)
				SELECT concat(c, '|', toString(day)), sum(n) OVER (PARTITION BY c ORDER BY day) FROM d
				UNION ALL SELECT concat(c, '|total'), sum(n) FROM d GROUP BY c
				UNION ALL SELECT '|grand', sum(n) FROM d`,
		},
		{
			name: "formula by course and type per month",
			req:  metrics.Request{MetricKey: "completions_per_100", TimeRange: january, Grain: "MONTH", Dimensions: []string{"properties.course_id", "type"}},
			value: `
				WITH r AS (SELECT ` + course + ` AS c, type, countIf(type IN ('course.completed', 'lesson.completed')) AS num,
				                  countIf(type = 'course.enrolled') AS den
				           FROM events FINAL WHERE tenant_id = ? AND ` + jan26 + ` GROUP BY c, type)
				SELECT concat(c, '\x00', type, '|2026-01-01'), if(sum(den) = 0, nan, sum(num) / sum(den) * 100) FROM r WHERE num + den > 0 GROUP BY c, type
				UNION ALL SELECT concat(c, '\x00', type, '|total'), if(sum(den) = 0, nan, sum(num) / sum(den) * 100) FROM r WHERE num + den > 0 GROUP BY c, type
				UNION ALL SELECT '|grand', sum(num) / sum(den) * 100 FROM r`,
		},
		{
			name: "ratio by course per week",
			req:  metrics.Request{MetricKey: "course_completion_rate", TimeRange: january, Grain: "WEEK", Dimensions: []string{"properties.course_id"}},
			value: `
				WITH r AS (SELECT ` + course + ` AS c, toMonday(occurred_at) AS w, countIf(type = 'course.completed') AS num,
				                  countIf(type = 'course.enrolled') AS den
				           FROM events FINAL WHERE tenant_id = ? AND ` + jan26 + ` AND type IN ('course.completed', 'course.enrolled') GROUP BY c, w)
				SELECT concat(c, '|', toString(w)), if(sum(den) = 0, nan, sum(num) / sum(den)) FROM r GROUP BY c, w
				UNION ALL SELECT concat(c, '|total'), sum(num) / sum(den) FROM r GROUP BY c
				UNION ALL SELECT '|grand', sum(num) / sum(den) FROM r`,
		},
		{
			name: "filtered ratio by course",
			req:  metrics.Request{MetricKey: "quiz_pass_rate", TimeRange: january, Grain: metrics.GrainTotal, Dimensions: []string{"properties.course_id"}},
			value: `
				WITH r AS (SELECT ` + course + ` AS c, countIf(` + score + ` >= 60) AS num, count() AS den
				           FROM events FINAL WHERE tenant_id = ? AND ` + jan26 + ` AND type = 'quiz.submitted' GROUP BY c)
				SELECT concat(c, '|2026-01-01'), num / den FROM r
				UNION ALL SELECT concat(c, '|total'), num / den FROM r
				UNION ALL SELECT '|grand', sum(num) / sum(den) FROM r`,
		},
		{
			name: "percentile by course per week",
			req:  metrics.Request{MetricKey: "score_p90", TimeRange: january, Grain: "WEEK", Dimensions: []string{"properties.course_id"}},
			value: `
				WITH r AS (SELECT ` + course + ` AS c, toMonday(occurred_at) AS w, ` + score + ` AS v
				           FROM events FINAL WHERE tenant_id = ? AND ` + jan26 + ` AND type = 'quiz.submitted')
				SELECT concat(c, '|', toString(w)), quantileExact(0.9)(v) FROM r GROUP BY c, w
				UNION ALL SELECT concat(c, '|total'), quantileExact(0.9)(v) FROM r GROUP BY c
				UNION ALL SELECT '|grand', quantileExact(0.9)(v) FROM r`,
		},
		{
			name: "count per day vs previous year",
			req:  metrics.Request{MetricKey: "enrolments", TimeRange: january, Grain: "DAY", CompareTo: metrics.ComparePreviousYear},
			value: `
				SELECT concat('|', toString(toDate(occurred_at))), count() FROM events FINAL
				WHERE tenant_id = ? AND type = 'course.enrolled' AND ` + jan26 + ` GROUP BY toDate(occurred_at)
				UNION ALL SELECT '|grand', count() FROM events FINAL WHERE tenant_id = ? AND type = 'course.enrolled' AND ` + jan26,
			compare: `
				SELECT concat('|', toString(toDate(occurred_at) + toIntervalYear(1))), count() FROM events FINAL
				WHERE tenant_id = ? AND type = 'course.enrolled' AND ` + jan25 + ` GROUP BY toDate(occurred_at)
				UNION ALL SELECT '|grand', count() FROM events FINAL WHERE tenant_id = ? AND type = 'course.enrolled' AND ` + jan25,
		},
		{
			name: "unique users by course vs previous year",
			req:  metrics.Request{MetricKey: "active_learners_mau", TimeRange: january, Grain: "MONTH", Dimensions: []string{"properties.course_id"}, CompareTo: metrics.ComparePreviousYear},
			value: `
				SELECT concat(` + course + `, '|2026-01-01'), uniqExact(user_id) FROM events FINAL WHERE tenant_id = ? AND ` + jan26 + ` GROUP BY ` + course + `
				UNION ALL SELECT concat(` + course + `, '|total'), uniqExact(user_id) FROM events FINAL WHERE tenant_id = ? AND ` + jan26 + ` GROUP BY ` + course + `
				UNION ALL SELECT '|grand', uniqExact(user_id) FROM events FINAL WHERE tenant_id = ? AND ` + jan26,
			compare: `
				SELECT concat(` + course + `, '|2026-01-01'), uniqExact(user_id) FROM events FINAL WHERE tenant_id = ? AND ` + jan25 + ` GROUP BY ` + course + `
				UNION ALL SELECT concat(` + course + `, '|total'), uniqExact(user_id) FROM events FINAL WHERE tenant_id = ? AND ` + jan25 + ` GROUP BY ` + course + `
				UNION ALL SELECT '|grand', uniqExact(user_id) FROM events FINAL WHERE tenant_id = ? AND ` + jan25,
		},
	} {
		for _, tenant := range kindTenants {
			t.Run(tc.name+"/"+tenant, func(t *testing.T) {
				want := handRows(t, e, tc.value, tenant)
				require.NotEmpty(t, want)
				var wantCmp map[string]*float64
				if tc.compare != "" {
					wantCmp = handRows(t, e, tc.compare, tenant)
					require.NotEmpty(t, wantCmp)
				}
				for name, q := range map[string]*metrics.Querier{"auto": e.q, "raw": e.raw} {
					res, err := q.Query(as(tenant), tc.req)
					require.NoError(t, err, name)
					got, gotCmp := resultRows(res)
					assertRows(t, want, got, name+" value ("+res.Path+")")
					if wantCmp != nil {
						assertRows(t, wantCmp, gotCmp, name+" compare ("+res.Path+")")
					}
				}
			})
		}
	}
}

// handRows runs hand-written (k, v) SQL, binding tenant to every ?.
func handRows(t *testing.T, e *env, sql, tenant string) map[string]*float64 {
	t.Helper()
	args := make([]any, strings.Count(sql, "?"))
	for i := range args {
		args[i] = tenant
	}
	rows, err := e.db.Query(context.Background(), "SELECT * FROM ("+sql+")", args...)
	require.NoError(t, err)
	defer rows.Close()
	out := map[string]*float64{}
	for rows.Next() {
		var k string
		var v any
		require.NoError(t, rows.Scan(&k, &v))
		f := numOf(v)
		if math.IsNaN(f) {
			out[k] = nil
			continue
		}
		out[k] = &f
	}
	require.NoError(t, rows.Err())
	return out
}

// resultRows flattens a result into the keys handRows uses, for values
// and for comparison values.
func resultRows(res *metrics.Result) (vals, cmps map[string]*float64) {
	vals, cmps = map[string]*float64{}, map[string]*float64{}
	for _, s := range res.Series {
		dims := strings.Join(s.Values, "\x00")
		for _, p := range s.Points {
			k := dims + "|" + p.Bucket.UTC().Format("2006-01-02")
			vals[k], cmps[k] = p.Value, p.CompareValue
		}
		vals[dims+"|total"], cmps[dims+"|total"] = s.Total.Value, s.Total.CompareValue
	}
	vals["|grand"], cmps["|grand"] = res.Totals.Value, res.Totals.CompareValue
	return vals, cmps
}

// assertRows checks every hand-written row against the result, and that
// every result row without a hand-written counterpart is empty (a filled
// gap: zero or no value).
func assertRows(t *testing.T, want, got map[string]*float64, msg string) {
	t.Helper()
	for k, w := range want {
		g, ok := got[k]
		if !assert.True(t, ok, "%s: row %q missing", msg, k) {
			continue
		}
		if w == nil || g == nil {
			assert.Equal(t, w == nil, g == nil, "%s: row %q want %v got %v", msg, k, fmtNum(w), fmtNum(g))
			continue
		}
		assert.InDelta(t, *w, *g, 1e-9, "%s: row %q", msg, k)
	}
	for k, g := range got {
		if _, ok := want[k]; !ok && g != nil && *g != 0 && !strings.HasSuffix(k, "|total") {
			// Cumulative gaps carry the running total; hand SQL has no
			// row for a day without events, so check against the last one.
			if prev := lastBefore(want, k); prev != nil && *prev == *g {
				continue
			}
			assert.Fail(t, msg, "row %q = %v has no hand-written counterpart", k, *g)
		}
	}
}

// lastBefore is the hand-written value of the latest row of the same
// series before k (for running totals over days without events).
func lastBefore(want map[string]*float64, k string) *float64 {
	series, day, _ := strings.Cut(k, "|")
	var best string
	var v *float64
	for wk, wv := range want {
		s, d, _ := strings.Cut(wk, "|")
		if s == series && d < day && d > best && d != "total" && d != "grand" {
			best, v = d, wv
		}
	}
	return v
}

// numOf converts a scanned numeric cell; NULL is NaN.
func numOf(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case float32:
		return float64(x)
	case uint64:
		return float64(x)
	case int64:
		return float64(x)
	case uint32:
		return float64(x)
	case uint8:
		return float64(x)
	}
	return math.NaN()
}

func fmtNum(v *float64) any {
	if v == nil {
		return "nil"
	}
	return *v
}

// A start after the range that converts must not count for a user whose
// start inside the range did not convert within the window.
func TestConversionIgnoresStartsAfterTheRange(t *testing.T) {
	e := newEnv(t)
	require.NoError(t, e.db.Exec(context.Background(), `
		INSERT INTO events (tenant_id, event_id, type, user_id, session_id, occurred_at, received_at, properties) VALUES
		('acme', 'a1', 'course.enrolled',  'late', 's', '2026-01-31 00:00:00', '2026-02-02 00:00:00', '{}'),
		('acme', 'a2', 'course.enrolled',  'late', 's', '2026-02-01 01:00:00', '2026-02-02 00:00:00', '{}'),
		('acme', 'a3', 'course.completed', 'late', 's', '2026-02-01 02:00:00', '2026-02-02 00:00:00', '{}'),
		('acme', 'b1', 'course.enrolled',  'ok',   's', '2026-01-10 00:00:00', '2026-02-02 00:00:00', '{}'),
		('acme', 'b2', 'course.completed', 'ok',   's', '2026-01-10 06:00:00', '2026-02-02 00:00:00', '{}'),
		('globex', 'c1', 'course.enrolled', 'ok',  's', '2026-01-10 00:00:00', '2026-02-02 00:00:00', '{}')`))
	_, err := e.reg.Create(as("acme"), metrics.Input{Key: "enrol_to_complete", Name: "c", Kind: metrics.KindConversion,
		Conversion: &metrics.Conversion{StartEvent: "course.enrolled", EndEvent: "course.completed", Window: "12h"}})
	require.NoError(t, err)
	res, err := e.q.Query(as("acme"), metrics.Request{MetricKey: "enrol_to_complete", TimeRange: january, Grain: metrics.GrainTotal})
	require.NoError(t, err)
	require.NotNil(t, res.Totals.Value)
	assert.Equal(t, 0.5, *res.Totals.Value, "of 2 starters only one converted within January's starts")
}
