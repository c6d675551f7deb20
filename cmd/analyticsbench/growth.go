package main

import (
	"context"
	"fmt"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/learnhub/analytics-service/dashboards"
	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/platform/kv/rediskv"
	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/timerange"
)

// growthEvents is the 1× data set of the growth group (-growth-events): 1×,
// 4× and 16× of it are loaded, so the default's 16× (8 M) fits the
// machine next to the other groups' data.
var growthEvents = 500_000

// growthFactors are the data sizes of the growth table, as multiples of
// growthEvents.
var growthFactors = []int{1, 4, 16}

// growthNow is the growth group's clock: mid-day on the last day of the
// data, so `last: 30d` aligns to Jan 1–Feb 1 with Jan 31 still open (read
// raw), as a user's render at that time would.
var growthNow = time.Date(2026, 1, 31, 14, 37, 12, 0, time.UTC)

// benchGrowth measures how the serving path grows with the data: for each
// size (its own tenant, so the sizes do not share parts) the 10-widget
// dashboard over `last: 30d` and the DAU and enrolments metric queries by
// day, each raw and with the rollups, timed alternately (median of 3).
// Every rollup answer must equal the raw answer (every widget's every
// bucket, every metric bucket) or the group fails.
func benchGrowth(ctx context.Context, db *store.DB) ([]result, error) {
	rdb, stop, err := memRedis()
	if err != nil {
		return nil, err
	}
	defer stop()
	clock := func() time.Time { return growthNow }
	reg := metrics.NewRegistry(db, metrics.Config{Now: clock, Cache: rediskv.New(rdb)})
	raw := metrics.NewQuerier(db, reg, metrics.QuerierConfig{Now: clock, DisableRollups: true})
	auto := metrics.NewQuerier(db, reg, metrics.QuerierConfig{Now: clock})
	rawSvc := dashboards.NewService(db, reg, func() *metrics.Loader { return metrics.NewLoader(raw, metrics.LoaderConfig{}) }, dashboards.Config{Now: clock})
	rollSvc := dashboards.NewService(db, reg, func() *metrics.Loader { return metrics.NewLoader(auto, metrics.LoaderConfig{}) }, dashboards.Config{Now: clock})
	last30 := &timerange.Spec{Last: "30d"}
	rng, err := timerange.ResolveAligned(*last30, growthNow, timerange.GrainDay, time.UTC, "timeRange")
	if err != nil {
		return nil, err
	}
	fixed := timerange.Spec{From: &rng.From, To: &rng.To}
	queries := []struct {
		label string
		req   metrics.Request
	}{
		{"DAU by day", metrics.Request{MetricKey: "active_learners_dau", TimeRange: fixed, Grain: "DAY"}},
		{"enrolments by day", metrics.Request{MetricKey: "enrolments", TimeRange: fixed, Grain: "DAY"}},
	}
	type row struct{ raw, roll float64 }
	var out []result
	first := map[string]row{}
	for _, f := range growthFactors {
		n := growthEvents * f
		tenant := fmt.Sprintf("bench-growth-%dx", f)
		loaded, err := loadLearningEvents(ctx, db, tenant, n)
		if err != nil {
			return nil, err
		}
		// The closed days as the nightly job leaves them (rebuilt); the
		// open day, Jan 31, is still being written.
		rebuilt, err := rebuildClosedDays(ctx, db, tenant, rng.From, growthNow.Truncate(24*time.Hour))
		if err != nil {
			return nil, err
		}
		if err := settleMerges(ctx, db, 2*time.Minute); err != nil {
			return nil, err
		}
		tctx := auth.WithPrincipal(ctx, auth.Principal{Subject: "bench", Tenant: tenant, Roles: []auth.Role{auth.RoleAdmin}})
		d, err := rawSvc.Create(tctx, dashboards.Input{Slug: "growth", Title: "Growth", TimeRange: *last30}, growthWidgets())
		if err != nil {
			return nil, err
		}
		size := fmt.Sprintf("%d× (%.2f M events)", f, float64(n)/1e6)
		note := func(name string, r row) string {
			s := fmt.Sprintf("checked: rollup answer equal to raw; events loaded in %.0fs, closed days rebuilt in %.0fs", loaded.Seconds(), rebuilt.Seconds())
			if base, ok := first[name]; ok {
				s += fmt.Sprintf("; vs 1×: rollup %.1f×, raw %.1f× for %d× the data", r.roll/base.roll, r.raw/base.raw, f)
			} else {
				first[name] = r
			}
			return s
		}
		var want *dashboards.Rendering
		times, err := timedEach(3,
			func() error { var err error; want, err = rawSvc.Render(tctx, d.ID, nil, nil); return err },
			func() error {
				got, err := rollSvc.Render(tctx, d.ID, nil, nil)
				if err != nil {
					return err
				}
				return sameRendering(want, got)
			})
		if err != nil {
			return nil, fmt.Errorf("growth %s: render: %w", size, err)
		}
		r := row{times[0], times[1]}
		out = append(out, result{
			Name:     "growth " + size + ": dashboard render, 10 widgets, last: 30d (aligned Jan 1–Feb 1, now Jan 31 14:37)",
			Value:    fmt.Sprintf("%.0f ms rollups on", r.roll),
			Baseline: fmt.Sprintf("%.0f ms raw", r.raw),
			Ratio:    fmt.Sprintf("%.2f×", r.roll/r.raw),
			Target:   "grows no faster than the data",
			Note:     note("render", r),
		})
		for _, q := range queries {
			var rawRes *metrics.Result
			var compared string
			times, err := timedEach(3,
				func() error { var err error; rawRes, err = raw.Query(tctx, q.req); return err },
				func() error {
					got, err := auto.Query(tctx, q.req)
					if err != nil {
						return err
					}
					if got.Path != metrics.PathRollup {
						return fmt.Errorf("the rollup side took path %s", got.Path)
					}
					compared, err = sameSeries(rawRes, got)
					return err
				})
			if err != nil {
				return nil, fmt.Errorf("growth %s: %s: %w", size, q.label, err)
			}
			r := row{times[0], times[1]}
			out = append(out, result{
				Name:     "growth " + size + ": metricQuery " + q.label + ", last: 30d aligned",
				Value:    fmt.Sprintf("%.1f ms rollup", r.roll),
				Baseline: fmt.Sprintf("%.1f ms raw", r.raw),
				Ratio:    fmt.Sprintf("%.1f× faster", r.raw/r.roll),
				Target:   "grows no faster than the data",
				Note:     note(q.label, r) + " (" + compared + ")",
			})
		}
	}
	return out, nil
}

// growthWidgets are the dashboard benchmark's ten widgets.
func growthWidgets() []dashboards.WidgetInput {
	ws := make([]dashboards.WidgetInput, len(benchWidgets))
	for i, w := range benchWidgets {
		ws[i] = dashboards.WidgetInput{Title: fmt.Sprintf("w%d %s", i, w.metric), Kind: w.kind, MetricKeys: []string{w.metric}, Grain: w.grain,
			Position: dashboards.Position{X: (i % 3) * 4, Y: i / 3 * 4, W: 4, H: 4}}
	}
	return ws
}

// sameRendering reports the first widget whose answer differs between two
// renders of one dashboard (every series, bucket and total).
func sameRendering(want, got *dashboards.Rendering) error {
	if len(want.Widgets) != len(got.Widgets) {
		return fmt.Errorf("%d widgets, want %d", len(got.Widgets), len(want.Widgets))
	}
	for i, w := range want.Widgets {
		g := got.Widgets[i]
		if w.Error != nil || g.Error != nil {
			return fmt.Errorf("widget %d failed: %v / %v", i, w.Error, g.Error)
		}
		if len(w.Results) != len(g.Results) {
			return fmt.Errorf("widget %d: %d results, want %d", i, len(g.Results), len(w.Results))
		}
		for j := range w.Results {
			if _, err := sameSeries(w.Results[j], g.Results[j]); err != nil {
				return fmt.Errorf("widget %d (%s): %w", i, w.Results[j].Metric.Key, err)
			}
		}
	}
	return nil
}

// memRedis starts an in-process Redis (miniredis) and a client of it; stop
// closes both.
func memRedis() (*redis.Client, func(), error) {
	mr, err := miniredis.Run()
	if err != nil {
		return nil, nil, err
	}
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	return rdb, func() { _ = rdb.Close(); mr.Close() }, nil
}
