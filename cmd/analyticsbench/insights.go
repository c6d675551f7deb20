package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/learnhub/analytics-service/adhoc"
	"github.com/learnhub/analytics-service/events"
	"github.com/learnhub/analytics-service/insights"
	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/store"
)

// insightsEvents is the size of the insights data set (-insights-events):
// two months of events of one tenant, with a planted drop of one course's
// completions in the second.
var insightsEvents = 10_000_000

// insightsRuns is how many times the question is answered; the row reports
// the median.
const insightsRuns = 5

// The insights data set: tenant, months and the planted driver.
const (
	insightsTenant = "bench_insights"
	insightsCourse = "c3" // loses 60 % of its completions in February
)

// benchInsights measures the built-in analyst answering "Why did course
// completions drop in February 2026?" over insightsEvents events (January
// vs February, driver analysis by every dimension), against one
// hand-written GROUP BY that counts the same completions per course and
// month, and reports the share of the answer spent in the engine (tool
// calls). It checks the answer: the planted course is the top driver and
// its two counts equal the hand-written ones.
func benchInsights(ctx context.Context, db *store.DB) ([]result, error) {
	start := time.Now()
	const chunk = 2_000_000
	for off := 0; off < insightsEvents; off += chunk {
		// Types cycle with number % 6, courses with number / 6 % 20, so every
		// course has every type; 60 % of c3's completions in February become
		// logins (the planted drop).
		if err := db.Exec(ctx, `
		INSERT INTO events (tenant_id, event_id, type, user_id, session_id, occurred_at, received_at, properties)
		SELECT ?, toString(number),
		       if(t = 'course.completed' AND c = 3 AND at >= toDateTime64('2026-02-01 00:00:00', 3, 'UTC') AND cityHash64(number) % 10 < 6, 'user.login', t),
		       concat('u', toString(number % 100000)), '', at, now64(3),
		       concat('{"course_id":"c', toString(c), '","score":', toString(number % 100), ',"seconds":', toString(number % 600), '}')
		FROM (SELECT number,
		             ['course.enrolled','lesson.completed','quiz.submitted','video.watched','course.completed','user.login'][number % 6 + 1] AS t,
		             intDiv(number, 6) % 20 AS c,
		             toDateTime64('2026-01-01 00:00:00', 3, 'UTC') + toIntervalSecond((number * 7919) % (59 * 86400)) AS at
		      FROM numbers(?, ?))
		SETTINGS max_execution_time = 600`, insightsTenant, off, min(chunk, insightsEvents-off)); err != nil {
			return nil, err
		}
	}
	load := time.Since(start)
	if err := settleMerges(ctx, db, 2*time.Minute); err != nil {
		return nil, err
	}
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	reg := metrics.NewRegistry(db, metrics.Config{Now: clock})
	tools := &insights.Tools{Registry: reg, Querier: metrics.NewQuerier(db, reg, metrics.QuerierConfig{Now: clock}),
		Events: events.NewService(db), SQL: adhoc.NewService(db, adhoc.Config{}), Now: clock}
	analyst := insights.NewAnalyst(tools)
	ctx = auth.WithPrincipal(ctx, auth.Principal{Subject: "bench", Tenant: insightsTenant, Roles: []auth.Role{auth.RoleViewer}})
	const question = "Why did course completions drop in February 2026?"

	// Warm: the catalog install and the first reads of the parts.
	if _, err := analyst.Answer(ctx, question, insights.Context{}, nil); err != nil {
		return nil, err
	}
	var answerMs, engineMs, handMs []float64
	var last *insights.Answer
	for range insightsRuns {
		ans, err := analyst.Answer(ctx, question, insights.Context{}, nil)
		if err != nil {
			return nil, err
		}
		answerMs = append(answerMs, float64(ans.Provenance.LatencyMs))
		engineMs = append(engineMs, float64(ans.Provenance.EngineMs))
		last = ans
		t0 := time.Now()
		if _, err := handCompletions(ctx, db); err != nil {
			return nil, err
		}
		handMs = append(handMs, float64(time.Since(t0).Microseconds())/1000)
	}
	hand, err := handCompletions(ctx, db)
	if err != nil {
		return nil, err
	}
	check, err := checkInsight(last, hand)
	if err != nil {
		return nil, err
	}
	a, e, h := median(answerMs), median(engineMs), median(handMs)
	return []result{{
		Name: fmt.Sprintf("insight: \"%s\" (built-in analyst, driver analysis Feb vs Jan), %s events", question, millions(insightsEvents)),
		Value: fmt.Sprintf("%.0f ms to answer (median of %d), %.0f ms (%.0f %%) in the engine over %d tool calls",
			a, insightsRuns, e, e/a*100, last.Provenance.ToolCalls),
		Baseline: fmt.Sprintf("%.0f ms hand-written GROUP BY course, month", h),
		Ratio:    fmt.Sprintf("%.1f× %s", a/h, mark(a <= 5000)),
		Target:   "answer ≤ 5 s",
		Note: fmt.Sprintf("checked: %s; grounding %s, confidence %s; events loaded in %s", check, last.Grounding.Status,
			last.Confidence.Level, load.Round(time.Second)),
	}}, nil
}

// handCompletions counts course completions per course in January and
// February 2026, written by hand: "c3/2026-02" → count.
func handCompletions(ctx context.Context, db *store.DB) (map[string]float64, error) {
	rows, err := db.Query(ctx, `
		SELECT toString(properties.course_id) AS course, toStartOfMonth(occurred_at) AS m, count()
		FROM events FINAL
		WHERE tenant_id = ? AND type = 'course.completed'
		  AND occurred_at >= toDateTime64('2026-01-01 00:00:00', 3, 'UTC') AND occurred_at < toDateTime64('2026-03-01 00:00:00', 3, 'UTC')
		GROUP BY course, m`, insightsTenant)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]float64{}
	for rows.Next() {
		var course string
		var m time.Time
		var n uint64
		if err := rows.Scan(&course, &m, &n); err != nil {
			return nil, err
		}
		out[course+"/"+m.Format("2006-01")] = float64(n)
	}
	return out, rows.Err()
}

// checkInsight checks the answer against the hand-written counts: its top
// driver is the planted course with the same two counts, and it is grounded.
func checkInsight(ans *insights.Answer, hand map[string]float64) (string, error) {
	if ans.Interpretation.Kind != insights.KindWhyChanged {
		return "", fmt.Errorf("insights: the question was read as %s", ans.Interpretation.Kind)
	}
	if ans.Grounding.Status != insights.Grounded {
		return "", fmt.Errorf("insights: ungrounded numbers %v", ans.Grounding.Ungrounded)
	}
	var cur, prev float64
	found := false
	for _, ev := range ans.Evidence {
		for _, v := range ev.Values {
			switch v.Name {
			case "properties.course_id=" + insightsCourse + "/current":
				cur, found = v.Value, true
			case "properties.course_id=" + insightsCourse + "/previous":
				prev = v.Value
			}
		}
	}
	want := [2]float64{hand[insightsCourse+"/2026-02"], hand[insightsCourse+"/2026-01"]}
	if !found || cur != want[0] || prev != want[1] {
		return "", fmt.Errorf("insights: planted course %s: answer %v/%v, hand-written %v/%v", insightsCourse, cur, prev, want[0], want[1])
	}
	if !strings.Contains(ans.Explanation, insightsCourse) {
		return "", fmt.Errorf("insights: the explanation does not name the planted course %s:\n%s", insightsCourse, ans.Explanation)
	}
	return fmt.Sprintf("planted driver %s named, its counts %.0f → %.0f equal the hand-written SQL", insightsCourse, prev, cur), nil
}

func millions(n int) string {
	if n%1_000_000 == 0 {
		return fmt.Sprintf("%d M", n/1_000_000)
	}
	return fmt.Sprintf("%d", n)
}
