package main

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/platform/kv/rediskv"
	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/timerange"
)

// The generated event set: metricsBenchEvents events of metricsBenchUsers
// users (the cohort benchmark reuses it); -metrics-events makes it smaller
// to iterate (the documented rows use 10 M).
const metricsBenchUsers = 100_000

var metricsBenchEvents = 10_000_000

// benchMetrics measures metric queries over ~10 M generated events: the
// daily rollup against the raw events table (same request, same answer),
// and N batched metrics (one Loader) against N separate queries.
func benchMetrics(ctx context.Context, db *store.DB) ([]result, error) {
	start := time.Now()
	// In 2 M-row statements: one 10 M-row INSERT … SELECT can pass the
	// 60 s statement limit on a busy 2-core machine.
	const chunk = 2_000_000
	for off := 0; off < metricsBenchEvents; off += chunk {
		if err := db.Exec(ctx, `
		INSERT INTO events (tenant_id, event_id, type, user_id, session_id, occurred_at, received_at, properties)
		SELECT 'bench', toString(number),
		       ['course.enrolled','lesson.completed','quiz.submitted','video.watched','course.completed','user.login'][number % 6 + 1],
		       concat('u', toString(number % ?)), '',
		       toDateTime64('2026-01-01 00:00:00', 3, 'UTC') + toIntervalSecond((number * 7919) % (30 * 86400)),
		       now64(3),
		       concat('{"course_id":"c', toString(number % 20), '","score":', toString(number % 100), ',"seconds":', toString(number % 600), '}')
		FROM numbers(?, ?)
		SETTINGS max_execution_time = 600`, metricsBenchUsers, off, min(chunk, metricsBenchEvents-off)); err != nil {
			return nil, err
		}
	}
	load := time.Since(start)
	// As the nightly job leaves closed days: rebuilt, so metrics_daily
	// answers them (a day written since its last rebuild is read from
	// events, see metrics.Rollups).
	rebuilt, err := rebuildClosedDays(ctx, db, "bench", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		return nil, err
	}
	// Measure the state a dashboard meets: the engine merges the rollups'
	// small parts in the background within a minute of a load (~20 s on a quiet engine),
	// and a query right after a bulk load would time those merges instead.
	// The events table is left as the engine keeps it (its month stays in
	// several parts until the nightly compaction; see the note).
	parts, err := settleRollupParts(ctx, db, 2*time.Minute)
	if err != nil {
		return nil, err
	}
	now := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	// As deployed: definitions are reused while their generation in Redis
	// is current, so each query is the engine's work plus one Redis GET.
	mr, err := miniredis.Run()
	if err != nil {
		return nil, err
	}
	defer mr.Close()
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	defer rdb.Close()
	reg := metrics.NewRegistry(db, metrics.Config{Now: clock, Cache: rediskv.New(rdb)})
	auto := metrics.NewQuerier(db, reg, metrics.QuerierConfig{Now: clock})
	raw := metrics.NewQuerier(db, reg, metrics.QuerierConfig{Now: clock, DisableRollups: true})
	ctx = auth.WithPrincipal(ctx, auth.Principal{Subject: "bench", Tenant: "bench", Roles: []auth.Role{auth.Role("admin")}})
	from, to := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), now
	jan := timerange.Spec{From: &from, To: &to}
	edgeFrom, edgeTo := from.Add(7*time.Hour), to.Add(-10*time.Hour-30*time.Minute)
	partial := timerange.Spec{From: &edgeFrom, To: &edgeTo}

	enrolments := rollupCase{label: "enrolments per day", req: metrics.Request{MetricKey: "enrolments", TimeRange: jan, Grain: "DAY"}}
	dau := rollupCase{label: "DAU by course per day", req: metrics.Request{MetricKey: "active_learners_dau", TimeRange: jan, Grain: "DAY", Dimensions: []string{"properties.course_id"}}}
	var out []result
	measure := func(c rollupCase, state string) error {
		rq, aq := raw, auto
		if c.raw != nil {
			rq, aq = c.raw, c.auto
		}
		rawT, rollT, buckets, path, err := rawVsRollup(ctx, rq, aq, c.req)
		if err != nil {
			return fmt.Errorf("%s%s: %w", c.label, state, err)
		}
		out = append(out, result{
			Name:     fmt.Sprintf("metric query raw vs rollup: %s, ~31 days, %g M events%s", c.label, float64(metricsBenchEvents)/1e6, state),
			Value:    fmt.Sprintf("%.1f ms (path %s)", rollT, path),
			Baseline: fmt.Sprintf("%.1f ms raw", rawT),
			Ratio:    fmt.Sprintf("%.1f× faster %s", rawT/rollT, mark(rawT/rollT >= 20)),
			Target:   "≥ 20×",
			Note: fmt.Sprintf("checked: every bucket of every series equal on both paths (%s); events loaded in %s, closed days rebuilt (as the nightly job does) in %s; active parts of the month: %s",
				buckets, load.Round(time.Second), rebuilt.Round(time.Second), parts) + c.note,
		})
		return nil
	}
	for _, c := range []rollupCase{enrolments, dau,
		// The daily active learners chart: no dimension, so it reads
		// metrics_daily_active, one row per day.
		{label: "DAU per day (no dimension)", req: metrics.Request{MetricKey: "active_learners_dau", TimeRange: jan, Grain: "DAY"},
			note: "; from metrics_daily_active (one row per day)"},
		// A range ending mid-day, as "last 30d" does: whole days from the
		// rollup, the two partial days from events.
		{label: "enrolments per day, partial edge days", req: metrics.Request{MetricKey: "enrolments", TimeRange: partial, Grain: "DAY"},
			note: "; the two partial days are read from events with FINAL (exact even for duplicates the daily rebuild has not yet removed); inside a day the events sort key orders rows by user, not time, so each edge day costs a FINAL over that whole day of the types read"},
	} {
		if err := measure(c, ""); err != nil {
			return nil, err
		}
	}
	// `last: 30d` by day as a user asks it: metricQuery aligns the window to
	// whole days (timerange.ResolveAligned), so the rollup reads the closed
	// days and the open day (the one holding now) from events FINAL. The
	// generated events end on Jan 30, so now is mid-afternoon that day.
	if err := benchLast30d(ctx, db, reg, measure); err != nil {
		return nil, err
	}
	// Batching: N metrics of one dashboard in one Loader against the same N
	// queries one after another. Over different event types the batched
	// scan reads the union of the types once, which is the same rows the
	// separate queries read (type leads the sort key after the tenant), so
	// the gain is per-statement work; over the same events it reads once
	// instead of N times.
	for _, c := range []struct {
		label string
		keys  []string
	}{
		{"10 metrics over 7 event types", []string{"enrolments", "lesson_completions", "course_completions", "certificates_issued", "quiz_submissions",
			"quiz_passes", "avg_quiz_score", "learning_minutes", "course_completion_rate", "quiz_pass_rate"}},
		{"4 metrics over the same events (quiz.submitted)", []string{"quiz_submissions", "quiz_passes", "avg_quiz_score", "quiz_pass_rate"}},
	} {
		r, err := benchBatch(ctx, raw, c.keys, jan)
		if err != nil {
			return nil, err
		}
		r.Name = c.label + ": batched (raw path) vs separate queries"
		out = append(out, r)
	}
	// The same month after the nightly compaction (jobs.CompactEvents runs
	// OPTIMIZE … FINAL on closed months): one part, so FINAL costs the raw
	// path little; rows below say how much the rollups still buy there.
	// Last, so the batching rows above read the month as loaded (the
	// cohort benchmark that follows reads it compacted).
	compactStart := time.Now()
	if err := db.Exec(ctx, "OPTIMIZE TABLE events PARTITION ID '202601' FINAL SETTINGS max_execution_time = 600"); err != nil {
		return nil, err
	}
	compacted := time.Since(compactStart)
	if parts, err = settleRollupParts(ctx, db, 0); err != nil {
		return nil, err
	}
	for _, c := range []rollupCase{enrolments, dau} {
		c.note = fmt.Sprintf("; compacted in %s", compacted.Round(time.Second))
		if err := measure(c, ", month compacted (as the nightly job leaves a closed month)"); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// rollupCase is one raw-vs-rollup row: a request, and the queriers when
// they are not the month's (another clock).
type rollupCase struct {
	label     string
	req       metrics.Request
	note      string
	raw, auto *metrics.Querier
}

// benchLast30d measures enrolments per day over `last: 30d` ending at a
// clock inside the generated month, through querier pairs on that clock.
func benchLast30d(ctx context.Context, db *store.DB, reg *metrics.Registry, measure func(rollupCase, string) error) error {
	now := time.Date(2026, 1, 30, 14, 37, 12, 0, time.UTC)
	rng, err := timerange.ResolveAligned(timerange.Spec{Last: "30d"}, now, timerange.GrainDay, time.UTC, "timeRange")
	if err != nil {
		return err
	}
	clock := func() time.Time { return now }
	return measure(rollupCase{label: "enrolments per day, last: 30d ending now (aligned to whole days, open day from events)",
		req:  metrics.Request{MetricKey: "enrolments", TimeRange: timerange.Spec{From: &rng.From, To: &rng.To}, Grain: "DAY"},
		note: fmt.Sprintf("; now = %s, window %s to %s as metricQuery resolves it; the open day is read from events FINAL", now.Format(time.DateTime), rng.From.Format(time.DateOnly), rng.To.Format(time.DateOnly)),
		auto: metrics.NewQuerier(db, reg, metrics.QuerierConfig{Now: clock}),
		raw:  metrics.NewQuerier(db, reg, metrics.QuerierConfig{Now: clock, DisableRollups: true})}, "")
}

// rebuildClosedDays rebuilds tenant's rollups over the closed UTC days
// [from, to) as the nightly metrics.RebuildRollupsJob would, after a bulk
// load whose inserts have all returned, and returns how long it took.
func rebuildClosedDays(ctx context.Context, db *store.DB, tenant string, from, to time.Time) (time.Duration, error) {
	start := time.Now()
	scope, err := store.DangerousScopeForTenant(tenant)
	if err != nil {
		return 0, err
	}
	err = metrics.NewRollups(db).NoInsertsInFlight().Rebuild(store.WithSettings(ctx, store.Settings{"max_execution_time": 600}), scope, from, to)
	return time.Since(start), err
}

// rawVsRollup times req on the raw path and through the rollups in blocks
// of five runs in the order raw, rollup, rollup, raw (ABBA): machine drift
// (merges, other load) weighs on both medians alike, and a 3 ms statement
// is not timed right behind a 2 s one every time. It returns both medians,
// what was compared (every answer of both sides must equal the first raw
// answer bucket by bucket, or it fails) and the path the rollup side took.
func rawVsRollup(ctx context.Context, raw, auto *metrics.Querier, req metrics.Request) (rawT, rollT float64, compared string, path string, err error) {
	var rawRes, rollRes, want *metrics.Result
	var rawXs, rollXs []float64
	block := func(q *metrics.Querier, res **metrics.Result, xs *[]float64) error {
		for range 5 {
			x, err := timed(1, func() error { var err error; *res, err = q.Query(ctx, req); return err })
			if err != nil {
				return err
			}
			*xs = append(*xs, x)
			if want == nil {
				want = *res
			} else if compared, err = sameSeries(want, *res); err != nil {
				return fmt.Errorf("path %s differs from path %s: %w", (*res).Path, want.Path, err)
			}
		}
		return nil
	}
	for _, b := range []struct {
		q   *metrics.Querier
		res **metrics.Result
		xs  *[]float64
	}{{raw, &rawRes, &rawXs}, {auto, &rollRes, &rollXs}, {auto, &rollRes, &rollXs}, {raw, &rawRes, &rawXs}} {
		if err := block(b.q, b.res, b.xs); err != nil {
			return 0, 0, "", "", err
		}
	}
	if rawRes.Path != metrics.PathRaw {
		return 0, 0, "", "", fmt.Errorf("the raw side took path %s", rawRes.Path)
	}
	return median(rawXs), median(rollXs), compared, string(rollRes.Path), nil
}

// sameSeries reports an error naming the first difference between two
// answers to one request: the series (by dimension values), each one's
// buckets and values, and the totals. Values agree within 1e-9 relative
// (sums of floats may add in another order). It describes what it compared.
func sameSeries(want, got *metrics.Result) (string, error) {
	if len(want.Series) != len(got.Series) {
		return "", fmt.Errorf("%d series, want %d", len(got.Series), len(want.Series))
	}
	byKey := make(map[string]metrics.Series, len(got.Series))
	for _, s := range got.Series {
		byKey[strings.Join(s.Values, "\x00")] = s
	}
	buckets := 0
	for _, w := range want.Series {
		g, ok := byKey[strings.Join(w.Values, "\x00")]
		if !ok {
			return "", fmt.Errorf("series %q missing", w.Values)
		}
		if len(g.Points) != len(w.Points) {
			return "", fmt.Errorf("series %q: %d buckets, want %d", w.Values, len(g.Points), len(w.Points))
		}
		for i, wp := range w.Points {
			gp := g.Points[i]
			if !gp.Bucket.Equal(wp.Bucket) || !sameValue(gp.Value, wp.Value) {
				return "", fmt.Errorf("series %q bucket %s: %s, want %s at %s", w.Values, gp.Bucket.Format(time.RFC3339), fmtValue(gp.Value), fmtValue(wp.Value), wp.Bucket.Format(time.RFC3339))
			}
			buckets++
		}
		if !sameValue(g.Total.Value, w.Total.Value) {
			return "", fmt.Errorf("series %q total: %s, want %s", w.Values, fmtValue(g.Total.Value), fmtValue(w.Total.Value))
		}
	}
	if !sameValue(got.Totals.Value, want.Totals.Value) {
		return "", fmt.Errorf("total: %s, want %s", fmtValue(got.Totals.Value), fmtValue(want.Totals.Value))
	}
	if buckets == 0 {
		return "", fmt.Errorf("no buckets to compare")
	}
	return fmt.Sprintf("%d series, %d buckets", len(want.Series), buckets), nil
}

// sameValue compares two optional metric values within 1e-9 relative.
func sameValue(a, b *float64) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return math.Abs(*a-*b) <= 1e-9*math.Max(1, math.Max(math.Abs(*a), math.Abs(*b)))
}

func fmtValue(v *float64) string {
	if v == nil {
		return "no data"
	}
	return strconv.FormatFloat(*v, 'g', -1, 64)
}

// settleRollupParts waits, at most max, until the benchmark's month
// (January 2026) of each daily rollup is one part, and describes the
// month's active parts in events and the rollups.
func settleRollupParts(ctx context.Context, db *store.DB, max time.Duration) (string, error) {
	deadline := time.Now().Add(max)
	for {
		var split uint64
		if err := db.QueryRow(ctx, []any{&split}, `
			SELECT countIf(n > 1) FROM (
				SELECT count() AS n FROM system.parts
				WHERE database = currentDatabase() AND active AND table IN ('metrics_daily', 'metrics_daily_users', 'metrics_daily_active')
				      AND partition_id = '202601'
				GROUP BY table)`); err != nil {
			return "", err
		}
		if split == 0 || time.Now().After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(time.Second):
		}
	}
	rows, err := db.Query(ctx, `
		SELECT table, count() FROM system.parts
		WHERE database = currentDatabase() AND active AND table IN ('events', 'metrics_daily', 'metrics_daily_users', 'metrics_daily_active')
		      AND partition_id = '202601'
		GROUP BY table ORDER BY table`)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var table string
		var n uint64
		if err := rows.Scan(&table, &n); err != nil {
			return "", err
		}
		out = append(out, fmt.Sprintf("%s %d", table, n))
	}
	return strings.Join(out, ", "), rows.Err()
}

// benchBatch times the metrics keys per day over rng through one Loader
// against the same requests run one after another.
func benchBatch(ctx context.Context, q *metrics.Querier, keys []string, rng timerange.Spec) (result, error) {
	reqs := make([]metrics.Request, len(keys))
	for i, k := range keys {
		reqs[i] = metrics.Request{MetricKey: k, TimeRange: rng, Grain: "DAY"}
	}
	want := make([]*metrics.Result, len(reqs))
	sepT, err := timed(3, func() error {
		for i, r := range reqs {
			var err error
			if want[i], err = q.Query(ctx, r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return result{}, err
	}
	var statements int
	batchT, err := timed(3, func() error {
		l := metrics.NewLoader(q, metrics.LoaderConfig{})
		var wg sync.WaitGroup
		res := make([]*metrics.Result, len(reqs))
		errs := make([]error, len(reqs))
		for i, r := range reqs {
			wg.Go(func() { res[i], errs[i] = l.Load(ctx, r) })
		}
		wg.Wait()
		for i, e := range errs {
			if e != nil {
				return e
			}
			if _, err := sameSeries(want[i], res[i]); err != nil {
				return fmt.Errorf("%s batched differs from the separate query: %w", keys[i], err)
			}
		}
		statements = res[0].SQLCount
		return nil
	})
	if err != nil {
		return result{}, err
	}
	return result{
		Value:    fmt.Sprintf("%.1f ms, %d SELECT", batchT, statements),
		Baseline: fmt.Sprintf("%.1f ms, %d SELECTs", sepT, len(reqs)),
		Ratio:    fmt.Sprintf("%.2f×", batchT/sepT),
		Target:   "—",
		Note:     "one Loader; -If aggregates in one scan of the union of the event types; checked: every batched answer equals its separate query bucket by bucket",
	}, nil
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
