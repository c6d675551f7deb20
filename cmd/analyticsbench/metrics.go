package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/timerange"
)

// metricsBenchEvents is the size of the generated event set.
const metricsBenchEvents = 10_000_000

// benchMetrics measures metric queries over ~10 M generated events: the
// daily rollup against the raw events table (same request, same answer),
// and N batched metrics (one Loader) against N separate queries.
func benchMetrics(ctx context.Context, db *store.DB) ([]result, error) {
	start := time.Now()
	if err := db.Exec(ctx, `
		INSERT INTO events (tenant_id, event_id, type, user_id, session_id, occurred_at, received_at, properties)
		SELECT 'bench', toString(number),
		       ['course.enrolled','lesson.completed','quiz.submitted','video.watched','course.completed','user.login'][number % 6 + 1],
		       concat('u', toString(number % 50000)), '',
		       toDateTime64('2026-01-01 00:00:00', 3, 'UTC') + toIntervalSecond((number * 7919) % (30 * 86400)),
		       now64(3),
		       concat('{"course_id":"c', toString(number % 20), '","score":', toString(number % 100), ',"seconds":', toString(number % 600), '}')
		FROM numbers(?)`, metricsBenchEvents); err != nil {
		return nil, err
	}
	load := time.Since(start)
	now := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	reg := metrics.NewRegistry(db, metrics.Config{Now: clock})
	auto := metrics.NewQuerier(db, reg, metrics.QuerierConfig{Now: clock})
	raw := metrics.NewQuerier(db, reg, metrics.QuerierConfig{Now: clock, DisableRollups: true})
	ctx = auth.WithPrincipal(ctx, auth.Principal{Subject: "bench", Tenant: "bench", Roles: []auth.Role{auth.Role("admin")}})
	from, to := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), now
	jan := timerange.Spec{From: &from, To: &to}
	edgeFrom, edgeTo := from.Add(7*time.Hour), to.Add(-10*time.Hour-30*time.Minute)
	partial := timerange.Spec{From: &edgeFrom, To: &edgeTo}

	var out []result
	for _, c := range []struct {
		label string
		req   metrics.Request
	}{
		{"enrolments per day", metrics.Request{MetricKey: "enrolments", TimeRange: jan, Grain: "DAY"}},
		{"DAU by course per day", metrics.Request{MetricKey: "active_learners_dau", TimeRange: jan, Grain: "DAY", Dimensions: []string{"properties.course_id"}}},
		// A range ending mid-day, as "last 30d" does: whole days from the
		// rollup, the two partial days from events.
		{"enrolments per day, partial edge days", metrics.Request{MetricKey: "enrolments", TimeRange: partial, Grain: "DAY"}},
	} {
		var rawRes, rollRes *metrics.Result
		rawT, err := timed(5, func() error { var err error; rawRes, err = raw.Query(ctx, c.req); return err })
		if err != nil {
			return nil, err
		}
		rollT, err := timed(5, func() error { var err error; rollRes, err = auto.Query(ctx, c.req); return err })
		if err != nil {
			return nil, err
		}
		out = append(out, result{
			Name:     "metric query raw vs rollup: " + c.label + ", ~31 days, 10 M events",
			Value:    fmt.Sprintf("%.1f ms (path %s)", rollT, rollRes.Path),
			Baseline: fmt.Sprintf("%.1f ms raw", rawT),
			Ratio:    fmt.Sprintf("%.1f× faster", rawT/rollT),
			Target:   "≥ 20×",
			Note:     fmt.Sprintf("same totals: %v; events loaded in %s", *rawRes.Totals.Value == *rollRes.Totals.Value, load.Round(time.Second)),
		})
	}

	var reqs []metrics.Request
	for _, k := range []string{"enrolments", "lesson_completions", "course_completions", "certificates_issued", "quiz_submissions",
		"quiz_passes", "avg_quiz_score", "learning_minutes", "course_completion_rate", "quiz_pass_rate"} {
		reqs = append(reqs, metrics.Request{MetricKey: k, TimeRange: jan, Grain: "DAY"})
	}
	sepT, err := timed(3, func() error {
		for _, r := range reqs {
			if _, err := raw.Query(ctx, r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	batchT, err := timed(3, func() error {
		l := metrics.NewLoader(raw, metrics.LoaderConfig{})
		var wg sync.WaitGroup
		errs := make([]error, len(reqs))
		for i, r := range reqs {
			wg.Go(func() { _, errs[i] = l.Load(ctx, r) })
		}
		wg.Wait()
		for _, e := range errs {
			if e != nil {
				return e
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out = append(out, result{
		Name:     fmt.Sprintf("%d metrics batched (raw path) vs separate queries", len(reqs)),
		Value:    fmt.Sprintf("%.1f ms, 1 SELECT", batchT),
		Baseline: fmt.Sprintf("%.1f ms, %d SELECTs", sepT, len(reqs)),
		Ratio:    fmt.Sprintf("%.2f×", batchT/sepT),
		Target:   "≤ 0.5×",
		Note:     "one Loader; -If aggregates in one scan",
	})
	return out, nil
}

// timed runs f n times and returns the median duration in milliseconds
// (median from graphql.go).
func timed(n int, f func() error) (float64, error) {
	xs := make([]float64, n)
	for i := range xs {
		s := time.Now()
		if err := f(); err != nil {
			return 0, err
		}
		xs[i] = float64(time.Since(s).Microseconds()) / 1000
	}
	return median(xs), nil
}
